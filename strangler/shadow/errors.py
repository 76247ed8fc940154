"""The shadow report's failures, in one line each (StranglerError: `strangle` prints them)."""

from strangler.errors import StranglerError


class ShadowError(StranglerError):
    """No report can be made as asked (a step that shadows nothing, an unknown route)."""


class ShadowReportFailed(ShadowError):
    """The report was made and does not pass: a route over the plan's threshold, or one not
    compared often enough yet."""
