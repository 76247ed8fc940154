"""Host names as the plan and the proxy's options accept them: written into nginx.conf as they
are, so nothing but an IP address or a DNS name may pass."""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def is_host(value: str) -> bool:
    """An IP address (IPv6 without brackets) or a DNS host name, and nothing more."""
    if "%" in value:  # a scoped IPv6 address ("fe80::1%eth0") carries any text after its `%`
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
