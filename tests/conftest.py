"""Repository-wide test wiring: the contract plugin and the local backend it falls back to."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.live import LiveBackend

pytest_plugins = ["strangler.contract.plugin"]


@pytest.fixture(scope="session")
def contract_default_base_url() -> Iterator[str]:
    """Without --base-url the contract suite runs against SHOP_BASE_URL when it is set, else
    starts (and afterwards removes) its own monolith."""
    if os.environ.get("SHOP_BASE_URL"):
        yield os.environ["SHOP_BASE_URL"]
        return
    with LiveBackend(name="contract", workers=2) as backend:
        yield backend.base_url
