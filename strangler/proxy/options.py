"""How the proxy is rendered on this machine: listeners, workers, the debug header.

The plan says where requests go; these options say where nginx listens and how it is tuned,
so the same plan renders for a laptop, CI (free ports) or production (no debug header).

Every option is written into nginx.conf as it is, so each is checked against what its directive
takes (a host, a number, a path) and a value that could end the directive is refused.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from strangler.plan.hosts import is_host
from strangler.proxy.errors import ProxyError

DEFAULT_PUBLIC_PORT = 8080
DEFAULT_INTERNAL_PORT = 8081
DEFAULT_HOST = "127.0.0.1"
# The internal listener serves /internal/ routes, the probe, the admin endpoint and the shadow
# log (stored response bodies): loopback unless PROXY_INTERNAL_HOST opens it, whatever the public
# listener's PROXY_HOST says.
DEFAULT_INTERNAL_HOST = "127.0.0.1"
# nginx's work per request is tiny next to a Django backend's: on the small machines this
# project targets (2 cores shared with the backends) one worker leaves the cores to them
# (bench/results/proxy-overhead.md); PROXY_WORKERS=auto suits a host of its own.
DEFAULT_WORKERS = "1"
DEFAULT_MODULES_DIR = "/usr/lib/nginx/modules"
DEFAULT_REAL_IP_HEADER = "X-Forwarded-For"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")

# An absolute path nginx reads as one word: no whitespace, quote, `;`, brace, `$` or `#`.
_PATH = re.compile(r"/[^\s\"';{}$#\\]*")
_WORKERS = re.compile(r"auto|[1-9][0-9]{0,3}")
_LOG_LEVELS = frozenset({"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"})
# Which variable sets each host, for the messages.
_VARIABLES = {"listen_host": "PROXY_HOST", "internal_host": "PROXY_INTERNAL_HOST"}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    listen_host: str = DEFAULT_HOST
    internal_host: str = DEFAULT_INTERNAL_HOST
    public_port: int = DEFAULT_PUBLIC_PORT
    internal_port: int = DEFAULT_INTERNAL_PORT
    served_by: bool = True  # X-Served-By: <backend>; off in production
    worker_processes: str = DEFAULT_WORKERS
    worker_connections: int = 4096
    error_log_level: str = "warn"
    modules_dir: str = DEFAULT_MODULES_DIR
    # Load balancers in front (CIDRs): the client address is the one they put in
    # real_ip_header. Without them, behind a balancer every client shares its address and
    # the per-address limits become one global limit.
    trusted_proxies: tuple[str, ...] = ()
    real_ip_header: str = DEFAULT_REAL_IP_HEADER

    def __post_init__(self) -> None:
        for name in ("listen_host", "internal_host"):
            value = getattr(self, name)
            if not is_host(value):
                raise ProxyError(
                    f"{_VARIABLES[name]}={value!r} is not an IP address or a host name"
                )
        if not _WORKERS.fullmatch(self.worker_processes):
            raise ProxyError(
                f"PROXY_WORKERS={self.worker_processes!r} is not 'auto' or a number of workers"
            )
        if not _PATH.fullmatch(self.modules_dir):
            raise ProxyError(
                f"NGINX_MODULES_DIR={self.modules_dir!r} is not an absolute path without "
                "whitespace, quotes, ';', '{', '}', '$' or '#'"
            )
        if self.error_log_level not in _LOG_LEVELS:
            raise ProxyError(f"unknown nginx error log level {self.error_log_level!r}")
        for port in (self.public_port, self.internal_port):
            if not 0 < port < 65536:
                raise ProxyError(f"{port!r} is not a port number")
        if self.worker_connections < 1:
            raise ProxyError(f"worker_connections must be positive: {self.worker_connections}")

    @property
    def public_listen(self) -> str:
        """The public listener's `listen` address."""
        return f"{_bracketed(self.listen_host)}:{self.public_port}"

    @property
    def internal_listen(self) -> str:
        return f"{_bracketed(self.internal_host)}:{self.internal_port}"

    @property
    def public_url(self) -> str:
        return f"http://{_reachable(self.listen_host)}:{self.public_port}"

    @property
    def internal_url(self) -> str:
        return f"http://{_reachable(self.internal_host)}:{self.internal_port}"

    def with_ports(self, *, public: int, internal: int) -> RenderOptions:
        return replace(self, public_port=public, internal_port=internal)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RenderOptions:
        """PROXY_HOST, PROXY_INTERNAL_HOST, PROXY_PORT, PROXY_INTERNAL_PORT, PROXY_WORKERS,
        PROXY_SERVED_BY (1/0, default 1; production sets 0), NGINX_MODULES_DIR,
        PROXY_TRUSTED_PROXIES (CIDRs, comma-separated) and PROXY_REAL_IP_HEADER (default
        X-Forwarded-For)."""
        env = os.environ if env is None else env
        served_by = env.get("PROXY_SERVED_BY") or "1"
        return cls(
            listen_host=env.get("PROXY_HOST") or DEFAULT_HOST,
            internal_host=env.get("PROXY_INTERNAL_HOST") or DEFAULT_INTERNAL_HOST,
            public_port=_port(env, "PROXY_PORT", DEFAULT_PUBLIC_PORT),
            internal_port=_port(env, "PROXY_INTERNAL_PORT", DEFAULT_INTERNAL_PORT),
            served_by=served_by.strip().lower() in ("1", "true"),
            worker_processes=env.get("PROXY_WORKERS") or DEFAULT_WORKERS,
            modules_dir=env.get("NGINX_MODULES_DIR") or DEFAULT_MODULES_DIR,
            trusted_proxies=_networks(env.get("PROXY_TRUSTED_PROXIES") or ""),
            real_ip_header=_header(env.get("PROXY_REAL_IP_HEADER") or DEFAULT_REAL_IP_HEADER),
        )


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if not value:
        return default
    try:
        port = int(value)
    except ValueError:
        raise ProxyError(f"{name}={value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ProxyError(f"{name}={value!r} is not a port number")
    return port


def _networks(value: str) -> tuple[str, ...]:
    """The CIDRs of PROXY_TRUSTED_PROXIES, normalised; anything else is refused, since it ends
    up in nginx's config (and a host address with a prefix is likely a typo)."""
    networks = []
    for spec in (part.strip() for part in value.split(",")):
        if not spec:
            continue
        try:
            networks.append(str(ipaddress.ip_network(spec)))
        except ValueError:
            raise ProxyError(f"PROXY_TRUSTED_PROXIES: {spec!r} is not a CIDR") from None
    return tuple(networks)


def _header(value: str) -> str:
    if not _HEADER_NAME.match(value):
        raise ProxyError(f"PROXY_REAL_IP_HEADER={value!r} is not a header name")
    return value


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _reachable(host: str) -> str:
    """Where a client on this machine reaches a listener bound to `host`."""
    if host == "0.0.0.0":
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return _bracketed(host)
