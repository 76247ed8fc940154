"""A backend's instances on one machine: several processes of one backend, each on its port.

A backend at host:port with `instances: N` (or `<NAME>_INSTANCES=N`) has its instance k
(counted from 0) at host:port + k * INSTANCE_PORT_STEP, so the shop's 8000-8003 leave room for
each backend's next instances (the catalog's second at 8012). The proxy balances across them,
`make up` starts one process per instance (supervisor's numprocs, deploy/gunicorn.conf.py binds
each), and the health checks ask each.
"""

from __future__ import annotations

INSTANCE_PORT_STEP = 10
MAX_INSTANCES = 8
HIGHEST_PORT = 65_535


def instances_var_for(backend: str) -> str:
    """`catalog` -> `CATALOG_INSTANCES`: the variable that overrides a backend's instances."""
    return backend.upper().replace("-", "_") + "_INSTANCES"


def instance_port(port: int, index: int) -> int:
    return port + index * INSTANCE_PORT_STEP


def instance_address(address: str, index: int) -> str:
    """The address of instance `index` (from 0) of the backend whose first is `address`."""
    host, _, port = address.rpartition(":")
    return f"{host}:{instance_port(int(port), index)}"


def instance_addresses(address: str, count: int) -> tuple[str, ...]:
    return tuple(instance_address(address, index) for index in range(count))
