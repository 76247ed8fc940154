import re
import textwrap

import pytest

from strangler.plan import PlanError, load_plan, parse_plan
from strangler.plan.diff import diff_steps, newly_needed

SHOP_STEPS = (
    "0-monolith",
    "1-auth",
    "2-catalog-shadow",
    "3-catalog-canary",
    "4-catalog",
    "5-orders",
)

MINIMAL = """
version: 1
backends:
  monolith: {url: "http://127.0.0.1:8000", owns: [catalog]}
  catalog: {url: "http://127.0.0.1:8002", owns: [catalog]}
routes:
  - {name: products, path: /api/products, methods: [GET, HEAD], domain: catalog}
  - {name: products-create, path: /api/products, methods: [POST], domain: catalog}
steps:
  - id: 0-monolith
    title: all monolith
"""


def plan_with(extra: str, *, base: str = MINIMAL):
    return parse_plan(
        base + textwrap.indent(textwrap.dedent(extra), "  "), file="plan.yaml", env={}
    )


def problem(extra: str, *, base: str = MINIMAL) -> str:
    with pytest.raises(PlanError) as caught:
        plan_with(extra, base=base)
    return str(caught.value)


def test_the_shop_plan_has_its_six_steps_in_order(shop_plan):
    assert shop_plan.step_ids == SHOP_STEPS
    assert set(shop_plan.backends) == {"monolith", "auth", "catalog", "orders"}
    assert shop_plan.backends["catalog"].url == "http://127.0.0.1:8002"


def test_reviews_and_payments_stay_in_the_monolith_at_every_step(shop_plan):
    for step in shop_plan.steps:
        for route in ("reviews", "order-pay"):
            target = step.targets[route]
            assert target.backends == ("monolith",), (step.id, route, target)
        assert step.owners["reviews"] == "monolith"
        assert step.owners["payments"] == "monolith"


def test_every_step_sends_each_domains_writes_to_exactly_its_owner(shop_plan):
    for step in shop_plan.steps:
        for route in shop_plan.routes:
            if route.write_methods:
                target = step.targets[route.name]
                assert not target.split
                assert target.backend == step.owners[route.domain], (step.id, route.name)


def test_the_canary_step_serves_ten_percent_of_catalog_reads_from_the_catalog(shop_plan):
    step = shop_plan.step("3-catalog-canary")
    for route in ("categories", "products", "product"):
        target = step.targets[route]
        assert dict(target.split) == {"monolith": 90, "catalog": 10}
        assert target.sticky == "user"
        assert target.fallback == "monolith"
    assert step.targets["products-create"].backend == "monolith"


def test_the_shadow_step_mirrors_catalog_reads_and_serves_them_from_the_monolith(shop_plan):
    target = shop_plan.step("2-catalog-shadow").targets["products"]
    assert (target.backend, target.shadow) == ("monolith", "catalog")


def test_extracted_reads_fall_back_to_the_monolith_but_internal_routes_do_not(shop_plan):
    step = shop_plan.step("5-orders")
    assert step.targets["order"].fallback == "monolith"
    assert step.targets["auth-me"].fallback == "monolith"
    assert step.targets["orders-internal"].fallback is None
    assert step.targets["order-cancel"].fallback is None  # POST only: nothing safe to retry


def test_the_most_specific_pattern_wins_so_reviews_stay_while_products_move(shop_plan):
    assert [r.name for r in shop_plan.match("/api/products/7/reviews")] == ["reviews"]
    assert {r.name for r in shop_plan.match("/api/products/7")} == {"product", "product-write"}
    assert shop_plan.match("/internal/orders/x") == []
    assert [r.name for r in shop_plan.match("/internal/orders/x", internal=True)] == [
        "orders-internal"
    ]


def test_locations_list_each_pattern_once_with_its_routes_most_specific_first(shop_plan):
    locations = [
        (pattern.text, [r.name for r in routes]) for pattern, routes in shop_plan.locations()
    ]
    texts = [text for text, _ in locations]

    assert len(texts) == len(set(texts))
    assert texts.index("/api/products/{id}/reviews") < texts.index("/api/products/{id}")
    assert ("/api/products/{id}", ["product", "product-write"]) in locations
    assert not any(text.startswith("/internal/") for text in texts)


def test_backend_urls_are_overridden_by_name_url_variables(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    plan = load_plan(path, env={"CATALOG_URL": "http://127.0.0.1:9999"})
    assert plan.backends["catalog"].address == "127.0.0.1:9999"
    assert plan.backends["monolith"].address == "127.0.0.1:8000"


def test_a_bad_override_names_the_variable(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    with pytest.raises(PlanError, match=r"backends\.catalog\.url \(from CATALOG_URL\)"):
        load_plan(path, env={"CATALOG_URL": "https://catalog"})


def test_an_unknown_backend_is_rejected_naming_file_step_and_key():
    message = problem(
        """
          - id: 1-catalog
            title: moved
            owners: {catalog: catalog}
            routes:
              products: {backend: catalgo}
        """
    )
    assert message.startswith("plan.yaml: step '1-catalog': routes.products.backend:")
    assert "unknown backend 'catalgo'" in message


def test_a_write_split_across_backends_is_rejected():
    message = problem(
        """
          - id: 1-split
            title: split writes
            routes:
              products-create: {split: {monolith: 50, catalog: 50}}
        """
    )
    assert "step '1-split': routes.products-create.split" in message
    assert "a write split across backends" in message


def test_weights_must_sum_to_one_hundred():
    message = problem(
        """
          - id: 1-canary
            title: canary
            routes:
              products: {split: {monolith: 90, catalog: 5}}
        """
    )
    assert "step '1-canary': routes.products.split: weights sum to 95, not 100" in message


def test_overlapping_routes_are_rejected():
    base = MINIMAL.replace(
        "steps:",
        "  - {name: products-again, path: /api/products, methods: [GET], domain: catalog}\nsteps:",
    )
    message = problem("", base=base)
    assert "routes.products-again.path: overlaps route 'products'" in message
    assert "for GET" in message


def test_a_step_cannot_give_a_domains_writes_to_a_backend_not_able_to_own_it():
    base = MINIMAL.replace("owns: [catalog]}\nroutes", "owns: []}\nroutes")
    message = problem(
        """
          - id: 1-catalog
            title: moved
            owners: {catalog: catalog}
        """,
        base=base,
    )
    assert "step '1-catalog': owners.catalog:" in message
    assert "not declared able to own it (backends.catalog.owns)" in message


def test_writes_cannot_go_to_a_backend_other_than_the_steps_owner():
    message = problem(
        """
          - id: 1-bad
            title: writes elsewhere
            routes:
              products-create: {backend: catalog}
        """
    )
    assert "routes.products-create.backend" in message
    assert "write owner of 'catalog' is 'monolith'" in message


def test_shadowing_a_write_route_is_rejected():
    message = problem(
        """
          - id: 1-shadow
            title: shadow
            routes:
              products-create: {shadow: catalog}
        """
    )
    assert "a shadow copies GET/HEAD only" in message


def test_unknown_keys_and_missing_keys_are_reported_with_their_step():
    with pytest.raises(PlanError) as caught:
        plan_with(
            """
              - id: 1-typo
                titel: typo
            """
        )
    texts = [str(issue) for issue in caught.value.issues]
    assert "plan.yaml: step '1-typo': titel: unknown key" in texts
    assert "plan.yaml: step '1-typo': title: missing required key" in texts
    assert str(caught.value).endswith("(and 1 more problem)")


def test_duplicate_yaml_keys_are_an_error_not_a_silent_override():
    message = problem(
        """
          - id: 1-dup
            title: dup
            routes:
              products: {backend: monolith}
              products: {backend: catalog}
        """
    )
    assert "duplicate key 'products'" in message


def test_every_problem_is_reported_at_once():
    with pytest.raises(PlanError) as caught:
        plan_with(
            """
              - id: 1-many
                title: many
                routes:
                  products: {split: {monolith: 10, nowhere: 10}}
            """
        )
    texts = [str(issue) for issue in caught.value.issues]
    assert any("unknown backend 'nowhere'" in text for text in texts)
    assert any("weights sum to 20" in text for text in texts)


def test_an_unreadable_file_is_reported_by_name(tmp_path):
    with pytest.raises(PlanError, match=re.escape("missing.yaml: cannot read")):
        load_plan(tmp_path / "missing.yaml", env={})


def test_diff_lists_owner_and_route_changes(shop_plan):
    before, after = shop_plan.step("3-catalog-canary"), shop_plan.step("4-catalog")
    changes = {(c.kind, c.name): c for c in diff_steps(shop_plan, before, after)}
    assert changes[("owner", "catalog")].after == "catalog"
    assert changes[("route", "products-create")].before == "monolith"
    assert changes[("route", "products-create")].after == "catalog"
    assert ("route", "reviews") not in changes
    assert diff_steps(shop_plan, after, after) == []
    assert newly_needed(shop_plan.step("0-monolith"), shop_plan.step("1-auth")) == ("auth",)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://x;\n include /etc/passwd", "without whitespace, control characters"),
        ("http://x;include:80", "without whitespace, control characters, quotes, ';'"),
        ("http://catalog:80;", "without whitespace"),
        ("http://cata log:80", "without whitespace"),
        ("http://catalog\t:80", "without whitespace"),
        ('http://cat"alog:80', "quotes"),
        ("http://{catalog}:80", "braces"),
        ("http://user:pw@catalog:80", "no user or password"),
        ("http://%63atalog:80", "not an IP address or host name"),
        ("http://-catalog:80", "not an IP address or host name"),
        ("http://catalog:0", "not an IP address or host name with a port"),
        ("http://catalog:99999", "invalid URL"),
    ],
)
def test_a_backend_url_that_could_write_nginx_directives_is_refused(tmp_path, url, message):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    with pytest.raises(PlanError, match=r"backends\.catalog\.url \(from CATALOG_URL\)") as error:
        load_plan(path, env={"CATALOG_URL": url})
    assert message in str(error.value)


def test_backend_urls_take_names_and_addresses(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    for url, address in [
        ("http://catalog:8002", "catalog:8002"),
        ("http://catalog_svc.internal:8002/", "catalog_svc.internal:8002"),
        ("http://[::1]:8002", "[::1]:8002"),
        ("http://10.1.2.3", "10.1.2.3:80"),
    ]:
        assert load_plan(path, env={"CATALOG_URL": url}).backends["catalog"].address == address


# -- instances --------------------------------------------------------------------------------


def test_a_backend_has_one_instance_unless_the_plan_lists_more(shop_plan):
    assert {backend.instances for backend in shop_plan.backends.values()} == {1}
    catalog = plan_with(
        "",
        base=MINIMAL.replace(
            'url: "http://127.0.0.1:8002",', 'url: "http://127.0.0.1:8002", instances: 3,'
        ),
    ).backends["catalog"]
    assert catalog.addresses == ("127.0.0.1:8002", "127.0.0.1:8012", "127.0.0.1:8022")
    assert catalog.instance_urls[0] == catalog.url == "http://127.0.0.1:8002"
    assert catalog.health_urls[2] == "http://127.0.0.1:8022/readyz"


def test_instances_are_overridden_by_name_instances_variables(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    plan = load_plan(path, env={"CATALOG_INSTANCES": "2", "CATALOG_URL": "http://[::1]:9000"})
    assert plan.backends["catalog"].addresses == ("[::1]:9000", "[::1]:9010")
    assert plan.backends["monolith"].addresses == ("127.0.0.1:8000",)


@pytest.mark.parametrize("value", ["0", "9", "two", "-1", "2.0", " 2"])
def test_a_bad_instances_override_names_the_variable(value):
    with pytest.raises(PlanError) as error:
        parse_plan(MINIMAL, file="plan.yaml", env={"CATALOG_INSTANCES": value})
    assert str(error.value) == (
        "plan.yaml: backends.catalog.instances (from CATALOG_INSTANCES): a whole number from "
        f"1 to 8, got {value!r}"
    )


def test_instances_out_of_range_in_the_plan_are_rejected_with_their_key():
    message = problem(
        "",
        base=MINIMAL.replace("owns: [catalog]}\nroutes", "owns: [catalog], instances: 0}\nroutes"),
    )
    assert "backends.catalog.instances: Input should be greater than or equal to 1" in message


def test_instances_beyond_the_last_port_are_rejected(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(MINIMAL)
    with pytest.raises(PlanError, match=r"instance 2 would listen on port 65540, above 65535"):
        load_plan(path, env={"CATALOG_URL": "http://127.0.0.1:65530", "CATALOG_INSTANCES": "2"})
