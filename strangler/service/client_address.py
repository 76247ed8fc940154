"""The address of the client behind a request, for what is limited per client (login lockouts).

Behind the proxy every request comes from the proxy's address; the proxy appends the address
it got the request from to X-Forwarded-For (after resolving its own trusted load balancers,
see RenderOptions.trusted_proxies). Entries a proxy appended can be believed, the ones a client
sent cannot: so the client is the right-most address not of a trusted proxy (the chassis'
STRANGLER_TRUSTED_PROXIES, loopback by default: the proxy, and the backends that forward
writes to the owner with the header unchanged, run on this machine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from strangler.conf import strangler_settings

UNKNOWN = "unknown"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(request) -> str:
    """The client's address as text, or "unknown" without a request (e.g. a command)."""
    if request is None:
        return UNKNOWN
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return UNKNOWN
    trusted = _networks(tuple(strangler_settings.TRUSTED_PROXIES))
    if not _trusted(remote, trusted):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        address = _address(entry)
        if address is None:
            # Garbage where a proxy we trust would have written an address: a client wrote it.
            return UNKNOWN
        if not _trusted(address, trusted):
            return str(address)
    return str(remote)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


@lru_cache(maxsize=4)
def _networks(specs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)
