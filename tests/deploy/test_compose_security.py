"""docker-compose.yml keeps the backends' internal API, the broker and the databases out of
reach: every caller and callee of /internal/ shares the required internal token, the broker
requires a password its clients know, only the proxy sits on a network with a way out, and no
backend shares its Django secret key or its database credentials with another."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.deploy.compose import BACKENDS, BROKER, PROXY, service

INTERNAL, PUBLIC = "internal", "public"
BACKEND_SERVICES = tuple(name for backend in BACKENDS for name in backend.from_its_image)
DATABASES = tuple(backend.database for backend in BACKENDS)


def networks_of(config: dict[str, Any], name: str) -> set[str]:
    return set(service(config, name).get("networks") or {"default"})


def test_every_backend_service_and_the_proxys_cli_get_the_internal_token_of_the_caller(
    compose_config: dict[str, Any], provided: dict[str, str]
) -> None:
    for name in (*BACKEND_SERVICES, PROXY):
        environment = service(compose_config, name)["environment"]
        assert environment.get("STRANGLER_INTERNAL_TOKEN") == provided["STRANGLER_INTERNAL_TOKEN"]


def test_the_broker_requires_the_password_every_backend_connects_with(
    compose_config: dict[str, Any], provided: dict[str, str]
) -> None:
    broker = service(compose_config, BROKER)
    command = list(broker["command"])
    assert command[command.index("--requirepass") + 1] == provided["REDIS_PASSWORD"]
    # Its healthcheck authenticates, and an error reply (NOAUTH) is not a PONG.
    assert broker["environment"]["REDISCLI_AUTH"] == provided["REDIS_PASSWORD"]
    assert "grep -q PONG" in " ".join(broker["healthcheck"]["test"])
    for name in BACKEND_SERVICES:
        url = urlsplit(service(compose_config, name)["environment"]["CELERY_BROKER_URL"])
        assert url.password == provided["REDIS_PASSWORD"], name


def test_the_internal_network_has_no_way_out(compose_config: dict[str, Any]) -> None:
    assert compose_config["networks"][INTERNAL].get("internal") is True
    assert not compose_config["networks"][PUBLIC].get("internal")


def test_backends_databases_and_the_broker_sit_on_the_internal_network_only(
    compose_config: dict[str, Any],
) -> None:
    for name in (*BACKEND_SERVICES, *DATABASES, BROKER):
        assert networks_of(compose_config, name) == {INTERNAL}, name


def test_only_the_proxy_is_on_the_public_network_and_it_reaches_the_backends(
    compose_config: dict[str, Any],
) -> None:
    on_public = {
        name for name in compose_config["services"] if PUBLIC in networks_of(compose_config, name)
    }
    assert on_public == {PROXY}
    assert networks_of(compose_config, PROXY) == {PUBLIC, INTERNAL}


def test_each_backend_has_its_own_django_secret_key_and_database_user_and_password(
    compose_config: dict[str, Any], provided: dict[str, str]
) -> None:
    seen: dict[str, set[str]] = {"secret key": set(), "user": set(), "password": set()}
    for backend in BACKENDS:
        database = service(compose_config, backend.database)["environment"]
        credentials = {
            "secret key": provided[backend.secret_key_variable],
            "user": database["POSTGRES_USER"],
            "password": provided[backend.database_password_variable],
        }
        assert database["POSTGRES_PASSWORD"] == credentials["password"]
        for name in backend.from_its_image:
            environment = service(compose_config, name)["environment"]
            url = urlsplit(environment[backend.database_url_variable])
            assert environment["DJANGO_SECRET_KEY"] == credentials["secret key"], name
            assert (url.username, url.password) == (credentials["user"], credentials["password"])
        for kind, value in credentials.items():
            assert value not in seen[kind], f"{backend.name} shares its {kind}"
            seen[kind].add(value)
