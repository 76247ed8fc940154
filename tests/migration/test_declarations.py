"""Declared once, read by every backend: each backend's project is asked (in its own process,
as it runs) what it syncs, where the others are and who owns what before the first flip, and
the answers must agree with each other and with the plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from strangler.plan import load_plan
from tests.migration.harness import REPO_ROOT, SHOP_PLAN

BACKENDS = {
    "monolith": "manage.py",
    "auth": "extracted/auth/manage.py",
    "catalog": "extracted/catalog/manage.py",
    "orders": "extracted/orders/manage.py",
}

DECLARED = """
import json
from strangler.conf import strangler_settings
from strangler.sync import registry
print(json.dumps({
    "aggregates": {
        a.name: {"domain": a.domain, "fields": list(a.fields), "partition_by": a.partition_by,
                 "model": a.model._meta.label,
                 "subscribers": strangler_settings.subscribers(a.name, a.domain)}
        for a in registry.all_aggregates()
    },
    "urls": strangler_settings.BACKEND_URLS,
    "initial_owners": {
        d: strangler_settings.initial_owner(d) for d in ("auth", "catalog", "orders")
    },
}))
"""


@pytest.fixture(scope="module")
def declared(tmp_path_factory) -> dict[str, dict]:
    env = {
        # Each project its own settings; the plan's default URLs.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.endswith("_URL") and k != "DJANGO_SETTINGS_MODULE"
        },
        "SHOP_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    answers = {}
    for name, manage in BACKENDS.items():
        done = subprocess.run(
            [sys.executable, str(REPO_ROOT / manage), "shell", "-c", DECLARED],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        answers[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


def _shape(answer: dict, domain: str) -> dict:
    return {
        name: {key: value for key, value in aggregate.items() if key != "subscribers"}
        for name, aggregate in answer["aggregates"].items()
        if aggregate["domain"] == domain
    }


@pytest.mark.parametrize(
    ("domain", "aggregates"),
    [
        ("auth", {"user", "refresh_token"}),
        ("catalog", {"category", "product", "stock_reservation"}),
        ("orders", {"order", "order_item", "cart_item"}),
    ],
)
def test_every_backend_syncs_the_same_aggregates_with_the_same_fields(declared, domain, aggregates):
    shapes = [_shape(answer, domain) for answer in declared.values() if _shape(answer, domain)]
    assert set(shapes[0]) == aggregates
    assert all(shape == shapes[0] for shape in shapes)


def test_each_backend_sends_a_domains_changes_to_the_others_that_own_or_copy_it(declared):
    for name in ("user", "refresh_token"):
        assert declared["monolith"]["aggregates"][name]["subscribers"] == [
            "auth",
            "catalog",
            "orders",
        ]
        assert declared["auth"]["aggregates"][name]["subscribers"] == [
            "monolith",
            "catalog",
            "orders",
        ]
    for name in ("category", "product", "stock_reservation"):
        assert declared["monolith"]["aggregates"][name]["subscribers"] == ["catalog", "orders"]
        assert declared["catalog"]["aggregates"][name]["subscribers"] == ["monolith", "orders"]
    for name in ("order", "order_item", "cart_item"):
        assert declared["monolith"]["aggregates"][name]["subscribers"] == ["orders"]
        assert declared["orders"]["aggregates"][name]["subscribers"] == ["monolith"]


def test_backend_urls_and_first_owners_come_from_the_plan_alike_everywhere(declared):
    plan = load_plan(SHOP_PLAN, env={})
    urls = {name: backend.url for name, backend in plan.backends.items()}
    for answer in declared.values():
        assert answer["urls"] == urls
        assert answer["initial_owners"] == {
            "auth": "monolith",
            "catalog": "monolith",
            "orders": "monolith",
        }
