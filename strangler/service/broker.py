"""kombu's filesystem transport with atomic message files.

The stock transport creates a message file and then writes it; a consumer in another process
can take the file in between and crash on an empty message (seen here: a Celery worker dying
with "Unrecoverable error: JSONDecodeError"). Here a message is written under a name the
consumers ignore and renamed into place once complete.
"""

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "filesystem"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot puts "msg.tmp" after the first dot: no consumer matches it.
        partial = os.path.join(self.data_folder_out, f".{name}.tmp")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.rename(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    """Makes filesystem:// URLs use this transport in the calling process."""
    TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
