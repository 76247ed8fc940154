"""The one exception of the proxy runner: its message is what the operator reads."""

from strangler.errors import StranglerError


class ProxyError(StranglerError):
    """A check failed or nginx refused; the running step is left as it was."""
