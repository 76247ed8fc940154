"""The id of the request being served, visible to logs and outgoing calls."""

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def accept_or_create_request_id(candidate: str | None) -> str:
    """The client's id when it is a sane token, else a fresh one (never trust arbitrary bytes)."""
    if candidate and _VALID_REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex
