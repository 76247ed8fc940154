"""The framework's settings, read through one object (as DRF's `api_settings`).

A backend names itself and its plan; everything the plan declares is read from the plan, once
for every backend: where each backend is (`<NAME>_URL` and `<NAME>_INSTANCES` overrides, as the
proxy reads them), who owns each domain before the first flip, and which backends receive
copies of a domain's aggregates. Everything else has a default here and a `STRANGLER_<NAME>`
Django setting to change it. Values are read on every access, so tests that override settings
see them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from strangler.plan import Plan, load_plan

DEFAULTS = {
    # Writes that meet a handover wait this long at most (from the first backend that saw them).
    "HANDOVER_WAIT_SECONDS": 10.0,
    # A flip waits this long at most for the new owner to reach the old owner's watermark.
    "HANDOVER_TIMEOUT_SECONDS": 5.0,
    # Ids left free above the old owner's when a new owner takes a domain over.
    "ID_GAP": 1000,
    "SYNC_PARTITIONS": 2,
    # The internal API's credential (strangler.service.internal_token). Empty, the API refuses
    # every caller: it is never open.
    "INTERNAL_TOKEN": "",
    # The aggregate behind the authenticated user: a token for a user this copy has not
    # received yet is read through from the owner.
    "USER_AGGREGATE": "",
    # The proxy's internal listener: calls on another domain's owner (/internal/<domain>/) go
    # there, and it routes them to the owner at the current step.
    "INTERNAL_PROXY_URL": "http://127.0.0.1:8081",
    # Work that goes with a flip, in order, once the can-flip verdict (strangler.gates) let it
    # through: the write-ownership handover.
    "FLIP_HOOKS": [
        "strangler.sync.flip.OwnershipHandover",
    ],
    # Proxies whose X-Forwarded-For is believed (strangler.service.client_address).
    "TRUSTED_PROXIES": ["127.0.0.1/32", "::1/128"],
    # Domains whose reads this backend caches (strangler.service.read_cache): their generation
    # is counted (strangler.sync.generations). None by default: nothing cached, nothing counted.
    "READ_CACHE_DOMAINS": (),
    # The Django cache (an alias of CACHES) those responses are kept in.
    "READ_CACHE_ALIAS": "default",
}


@lru_cache(maxsize=8)
def _plan(path: str, overrides: tuple[tuple[str, str], ...]) -> Plan:
    return load_plan(path, env=dict(overrides))


class StranglerSettings:
    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"no strangler setting {name!r}")
        return getattr(django_settings, f"STRANGLER_{name}", DEFAULTS[name])

    @property
    def BACKEND(self) -> str:
        backend = getattr(django_settings, "STRANGLER_BACKEND", None)
        if not backend:
            raise ImproperlyConfigured("STRANGLER_BACKEND must name this backend in the plan")
        return backend

    @property
    def plan(self) -> Plan:
        path = getattr(django_settings, "STRANGLER_PLAN", None)
        if not path:
            raise ImproperlyConfigured("STRANGLER_PLAN must point at the migration plan")
        overrides = tuple(
            sorted((k, v) for k, v in os.environ.items() if k.endswith(("_URL", "_INSTANCES")))
        )
        return _plan(str(Path(path)), overrides)

    @property
    def BACKEND_URLS(self) -> dict[str, str]:
        configured = getattr(django_settings, "STRANGLER_BACKEND_URLS", None)
        if configured is not None:
            return dict(configured)
        return {name: backend.url for name, backend in self.plan.backends.items()}

    def initial_owner(self, domain: str) -> str:
        """Who owns `domain` before any flip: the plan's first step, else its origin."""
        plan = self.plan
        return plan.steps[0].owners.get(domain, plan.origin)

    def subscribers(self, aggregate_type: str, domain: str) -> list[str]:
        """The backends that keep a copy of the aggregate: every backend of the plan able to
        own its domain (the origin included) or copying it (`copies`), except this one."""
        configured = getattr(django_settings, "STRANGLER_SYNC_SUBSCRIBERS", None)
        if configured is not None:
            return list(configured.get(aggregate_type, []))
        copying = [name for name, b in self.plan.backends.items() if domain in b.copies]
        return [
            name
            for name in dict.fromkeys([*self.possible_owners(domain), *copying])
            if name != self.BACKEND
        ]

    def possible_owners(self, domain: str) -> list[str]:
        """The backends of the plan able to own `domain`'s writes: its origin, and every backend
        whose `owns` names the domain."""
        plan = self.plan
        return [
            name
            for name, backend in plan.backends.items()
            if name == plan.origin or domain in backend.owns
        ]


strangler_settings = StranglerSettings()
