"""Helpers shared by the cross-cutting test suites (real processes, black-box clients)."""

from tests.support.live import LiveBackend

__all__ = ["LiveBackend"]
