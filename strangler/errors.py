"""The framework's one error type: what an operator can act on, said in one line.

The plan loader (PlanError), the proxy runner (ProxyError) and data sync (SyncError) raise
subclasses of it; `strangle` catches it at the top and prints its message, never a traceback.
"""


class StranglerError(Exception):
    """A failure whose message says what failed and where, in one line."""
