"""How the backends call each other and the proxy's internal listener inside compose.

A backend reaches a domain it does not own (the monolith's checkout reserving stock once the
catalog service owns it) through the proxy's internal listener, which routes /internal/<domain>/
to the domain's owner at the current step (STRANGLER_INTERNAL_PROXY_URL, from PROXY_INTERNAL_URL).
In compose that listener must take the backends' connections, on the internal network, and never
be published. Every backend must accept the Host those calls carry.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from strangler.plan import env_var_for
from strangler.proxy import RenderOptions
from tests.deploy.compose import (
    BACKENDS,
    PROXY,
    Backend,
    container_environment,
    run_config,
    service,
)

INTERNAL = "internal"
PUBLIC_HOST = "shop.example.test"


def proxy_options(config: dict[str, Any]) -> RenderOptions:
    """The proxy's listeners as `strangle up` renders them in its container."""
    return RenderOptions.from_env(container_environment(service(config, PROXY)))


def allowed_hosts(config: dict[str, Any], name: str) -> set[str]:
    return set(service(config, name)["environment"]["DJANGO_ALLOWED_HOSTS"].split(","))


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_backend_calls_domain_owners_through_the_proxys_internal_listener(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    internal_port = proxy_options(compose_config).internal_port
    for name in backend.from_its_image:
        definition = service(compose_config, name)
        url = urlsplit(definition["environment"]["PROXY_INTERNAL_URL"])
        assert (url.scheme, url.hostname, url.port) == ("http", PROXY, internal_port), name
        # The name resolves on a network both are on.
        assert INTERNAL in definition["networks"]
        assert INTERNAL in service(compose_config, PROXY)["networks"]


def test_the_proxys_internal_listener_takes_the_backends_connections_but_is_never_published(
    compose_config: dict[str, Any],
) -> None:
    options = proxy_options(compose_config)
    # Not the container's loopback (where the image keeps it): the backends call it from theirs.
    assert ipaddress.ip_address(options.internal_host).is_unspecified
    published = [
        port["target"]
        for definition in compose_config["services"].values()
        for port in definition.get("ports") or []
    ]
    assert published == [options.public_port]


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_backend_allows_the_host_names_it_is_called_by_whatever_public_names_are_added(
    backend: Backend,
    compose_config: dict[str, Any],
    compose_binary: Path,
    provided: dict[str, str],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    environment = service(compose_config, backend.name)["environment"]
    # Its healthcheck's address; its service name (the other backends, the proxy's CLI); the
    # proxy's, which passes the Host of the calls through its internal listener on.
    called_by = {
        "127.0.0.1",
        urlsplit(environment[env_var_for(backend.name)]).hostname,
        urlsplit(environment["PROXY_INTERNAL_URL"]).hostname,
    }
    assert called_by == {"127.0.0.1", backend.name, PROXY}
    assert called_by | {"localhost"} <= allowed_hosts(compose_config, backend.name)
    # The caller's DJANGO_ALLOWED_HOSTS (the shop's public names) adds to them.
    result = run_config(
        compose_binary, repo_root, tmp_path, {**provided, "DJANGO_ALLOWED_HOSTS": PUBLIC_HOST}
    )
    assert result.returncode == 0, result.stderr
    with_public_names = json.loads(result.stdout)
    for name in backend.from_its_image:
        assert called_by | {PUBLIC_HOST} <= allowed_hosts(with_public_names, name), name


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_backend_believes_x_forwarded_for_from_the_proxys_fixed_address_only(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    # Without it every client would have the proxy's address: one login lockout and one rate
    # limit for everyone.
    proxy_address = ipaddress.ip_address(
        service(compose_config, PROXY)["networks"][INTERNAL]["ipv4_address"]
    )
    subnet = ipaddress.ip_network(
        compose_config["networks"][INTERNAL]["ipam"]["config"][0]["subnet"]
    )
    assert proxy_address in subnet
    for name in backend.from_its_image:
        trusted = service(compose_config, name)["environment"]["STRANGLER_TRUSTED_PROXIES"]
        assert ipaddress.ip_network(trusted) == ipaddress.ip_network(f"{proxy_address}/32"), name
