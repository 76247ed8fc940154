"""pytest plugin: which shop the contract suite talks to.

`--base-url` (or the STRANGLER_BASE_URL environment variable) points the suite at a running
shop: the monolith, or the proxy at any migration step. Without one, the `base_url` fixture
falls back to a session fixture named `contract_default_base_url` that the project provides
(typically one that starts its own backend), so the library does not need to know how a
project runs.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from strangler.contract.normalise import Normaliser

BASE_URL_ENV = "STRANGLER_BASE_URL"
DEFAULT_BASE_URL_FIXTURE = "contract_default_base_url"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("strangler-contract", "contract tests against a running shop")
    group.addoption(
        "--base-url",
        action="store",
        default=None,
        dest="strangler_base_url",
        metavar="URL",
        help=f"Base URL of the shop under test (default: ${BASE_URL_ENV}, else a local backend).",
    )


def validate_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise pytest.UsageError(f"--base-url must be an absolute http(s) URL, got {url!r}")
    if parts.query or parts.fragment:
        raise pytest.UsageError(f"--base-url must not carry a query or fragment, got {url!r}")
    return url.rstrip("/")


def configured_base_url(config: pytest.Config) -> str | None:
    url = config.getoption("strangler_base_url") or os.environ.get(BASE_URL_ENV) or None
    return validate_base_url(url) if url else None


def pytest_configure(config: pytest.Config) -> None:
    # Fail at start-up on a malformed URL rather than in the first test.
    configured_base_url(config)


def pytest_report_header(config: pytest.Config) -> str:
    url = configured_base_url(config)
    return f"contract base url: {url or f'(none given: fixture {DEFAULT_BASE_URL_FIXTURE})'}"


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """Base URL (scheme, host, port, no trailing slash) of the shop under test."""
    url = configured_base_url(request.config)
    if url:
        return url
    try:
        return validate_base_url(request.getfixturevalue(DEFAULT_BASE_URL_FIXTURE))
    except pytest.FixtureLookupError:
        raise pytest.UsageError(
            f"No shop to test: pass --base-url, set ${BASE_URL_ENV}, or define a session "
            f"fixture named {DEFAULT_BASE_URL_FIXTURE!r}."
        ) from None


@pytest.fixture(scope="session")
def contract_normaliser() -> Normaliser:
    return Normaliser()
