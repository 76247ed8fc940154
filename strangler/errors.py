"""The framework's error types: what an operator (or a calling backend) can act on, in one line.

The plan loader (PlanError), the proxy runner (ProxyError) and data sync (SyncError) raise
subclasses of StranglerError; `strangle` catches it at the top and prints its message, never a
traceback. A backend's /internal/ API refuses a call with an InternalAPIError, which carries
the HTTP status of the refusal: the view answers it as {"detail": ...}, and the client raises
it again on the caller's side, so callers branch on `.status`, never on a message.
"""

from http import HTTPStatus


class StranglerError(Exception):
    """A failure whose message says what failed and where, in one line."""


class InternalAPIError(StranglerError):
    """A refused /internal/ call: `detail` says why, `status` is the HTTP status it answers.

    `call` names the request ("auth: GET /internal/sync/status") when raised by a caller."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, detail: str, *, status: int | None = None, call: str = "") -> None:
        if status is not None:
            self.status = status
        self.detail = detail
        super().__init__(f"{call}: {self.status} {detail}" if call else detail)


class InvalidRequest(InternalAPIError):
    status = HTTPStatus.BAD_REQUEST


class NotFound(InternalAPIError):
    status = HTTPStatus.NOT_FOUND


class Conflict(InternalAPIError):
    status = HTTPStatus.CONFLICT
