"""Every pinned runtime dependency is used: imported by the project's code, named in its
configuration (a settings string, a command line), or listed below with why it is needed."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["strangler", "monolith", "domains", "extracted", "deploy", "bench", "proxy"]
# Used without being named in the code.
USED_INDIRECTLY = {
    "cryptography": "PyJWT's RS256 backend (PyJWT[crypto])",
    "argon2-cffi-bindings": "argon2-cffi's compiled core",
    "MarkupSafe": "Jinja2's escaping, pinned beside it",
    "psycopg": "Django's PostgreSQL backend, chosen by a postgres:// database URL",
    "redis": "kombu's Redis transport, chosen by a redis:// broker URL",
}


def _pinned() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[\[=<>]", requirement)[0] for requirement in project["dependencies"]]


def _modules(distribution: str) -> set[str]:
    wanted = distribution.lower().replace("_", "-")
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if any(d.lower().replace("_", "-") == wanted for d in distributions)
        and not module.startswith("_")
    }


def _project_text() -> str:
    files = [ROOT / "Makefile", *(ROOT / "make").glob("*.mk")]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".conf", ".j2"}]
    return "\n".join(p.read_text(errors="ignore") for p in files if p.is_file())


def test_every_pinned_dependency_is_used_by_the_project():
    text = _project_text()
    unused = []
    for distribution in _pinned():
        if distribution in USED_INDIRECTLY:
            continue
        modules = _modules(distribution)
        assert modules, f"{distribution} is pinned but not installed"
        named = any(
            re.search(rf"(^|\s)(import|from) {m}\b|[\"'/\s]{m}[.\s:\"']", text, re.M)
            for m in modules
        )
        if not named:
            unused.append(distribution)
    assert unused == [], f"pinned but never used: {unused}"


def test_make_install_brings_what_strangle_verify_runs_the_contract_suite_with():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    contract = {re.split(r"[\[=<>]", requirement)[0] for requirement in extras["contract"]}
    assert {"pytest", "pytest-django", "pytest-timeout"} <= contract
    # Versions are pinned once: the test extra takes the contract one rather than repeating it.
    assert "strangler[contract]" in extras["test"]
    repeated = {re.split(r"[\[=<>]", r)[0] for r in extras["test"]} & contract
    assert repeated == set(), f"pinned in both extras: {repeated}"
    install = re.search(
        r"^\$\(VENV\)/\.installed:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M
    )
    assert install is not None and "-e '.[contract]'" in install.group(1)
