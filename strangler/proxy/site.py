"""Where things live on this machine: the plan, the private nginx prefix, the state file.

Everything comes from the environment so tests and CI run isolated copies side by side:
STRANGLER_ROOT (else the nearest folder above the working directory holding
migration-plan/plan.yaml), STRANGLER_PLAN, STRANGLER_VAR_DIR (default ROOT/var), NGINX_BIN,
plus the listener variables of RenderOptions and the <BACKEND>_URL overrides of the plan.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from strangler.plan import DEFAULT_PLAN, Plan, load_plan
from strangler.proxy.errors import ProxyError
from strangler.proxy.options import RenderOptions


@dataclass(frozen=True)
class Site:
    root: Path
    plan_path: Path
    var_dir: Path
    options: RenderOptions
    nginx_bin: str
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def prefix(self) -> Path:
        return self.var_dir / "nginx"

    @property
    def conf_path(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    @property
    def token_path(self) -> Path:
        return self.prefix / "conf" / "admin.token"

    @property
    def pid_path(self) -> Path:
        return self.prefix / "logs" / "nginx.pid"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    @property
    def state_dir(self) -> Path:
        return self.var_dir / "strangler"

    @property
    def state_path(self) -> Path:
        return self.state_dir / "state.json"

    def load_plan(self) -> Plan:
        return load_plan(self.plan_path, env=self.env)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Site:
        env = dict(os.environ if env is None else env)
        root = _root(env)
        plan = Path(env["STRANGLER_PLAN"]) if env.get("STRANGLER_PLAN") else root / DEFAULT_PLAN
        var_dir = Path(env["STRANGLER_VAR_DIR"]) if env.get("STRANGLER_VAR_DIR") else root / "var"
        return cls(
            root=root,
            plan_path=plan if plan.is_absolute() else root / plan,
            var_dir=var_dir if var_dir.is_absolute() else root / var_dir,
            options=RenderOptions.from_env(env),
            nginx_bin=env.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx",
            env=env,
        )


def _root(env: Mapping[str, str]) -> Path:
    if env.get("STRANGLER_ROOT"):
        return Path(env["STRANGLER_ROOT"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_PLAN).is_file():
            return folder
    raise ProxyError(
        f"no {DEFAULT_PLAN} in {here} or above; run from the project or set STRANGLER_ROOT"
    )
