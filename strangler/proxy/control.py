"""Moving the running proxy between steps: up, apply, rollback.

Every move renders the step, has nginx test it and asks the controller's gate (the can-flip
verdict: strangler.gates) before anything changes; only then is the config swapped atomically
and the step made live. A flip within one plan keeps the structure, so the new step table is
pushed into the running workers (no reload, no closed connection); a changed structure needs a
graceful reload. Either way a
probe must then report the new step, or the previous config is put back. Each installed config
comes with its record as data (strangler.proxy.live), which is what putting it back reads.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from strangler.plan import Plan, PlanError, Step
from strangler.proxy.admin import AdminClient, Live
from strangler.proxy.errors import ProxyError
from strangler.proxy.live import FILE_NAME, Installed, config_hash, load_installed, save_installed
from strangler.proxy.nginx import Nginx
from strangler.proxy.render import Rendered, render_parts
from strangler.proxy.site import Site
from strangler.proxy.state import State, load_state, save_state

PROBE_TIMEOUT = 15.0


class FlipHook(Protocol):
    """Work that must go with a flip (e.g. data-sync checks and the write-ownership switch).

    `before_flip` runs after the config and the backends passed their checks, just before the
    routes change: raising refuses the flip. `after_flip` runs once the new step is live:
    raising puts the previous step back. `flip_abandoned` runs when the new step could not be
    made live after `before_flip` succeeded (or `after_flip` refused it): it undoes what
    `before_flip` started. `current` is None on a fresh install.
    """

    def before_flip(self, *, plan: Plan, current: Step | None, target: Step) -> None: ...

    def after_flip(self, *, plan: Plan, current: Step | None, target: Step) -> None: ...

    def flip_abandoned(self, *, plan: Plan, current: Step | None, target: Step) -> None: ...


class Gate(Protocol):
    """Whether a move may happen: None, or the one line it is refused with. `current` is None
    on a fresh install; `rollback` says the move is one (a rollback is judged on fewer gates:
    it must stay possible)."""

    def refusal(
        self, *, plan: Plan, current: Step | None, target: Step, rollback: bool
    ) -> str | None: ...


@runtime_checkable
class ForcibleHook(FlipHook, Protocol):
    """A hook that `strangle rollback --force` can tell to go ahead without a lost backend,
    recording what may be lost under `journal_dir`."""

    def force(self, *, journal_dir: Path) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    step: str
    previous: str | None
    mode: str  # "push" (no reload), "reload", "offline" (nginx not running), "unchanged"
    rendered: Rendered

    def describe(self) -> str:
        how = {
            "push": "live without a reload",
            "reload": "live after a graceful reload (the plan's structure changed)",
            "offline": "recorded; nginx is not running and will serve it when started",
            "unchanged": "already live",
        }[self.mode]
        source = f" (was {self.previous})" if self.previous and self.previous != self.step else ""
        return f"step {self.step}{source}: {how}"


class Controller:
    def __init__(
        self,
        site: Site,
        *,
        log: Callable[[str], None] | None = None,
        hooks: tuple[FlipHook, ...] = (),
        gate: Gate | None = None,
    ) -> None:
        self.site = site
        # None: no move is judged (the mechanics alone, as their own tests drive them).
        self.gate = gate
        self.nginx = Nginx(site)
        self.log = log or (lambda message: None)
        self.hooks = hooks
        self._admin: AdminClient | None = None

    # -- public operations ---------------------------------------------------------------

    def plan(self) -> Plan:
        try:
            return self.site.load_plan()
        except PlanError as error:
            raise ProxyError(f"the plan is invalid: {error.one_line()}") from None

    def state(self) -> State:
        return load_state(self.site.state_path)

    def installed(self) -> Installed | None:
        """The record of the installed config, if it still describes that config."""
        record = load_installed(self.site.state_dir / FILE_NAME)
        return record if record and record.describes(self.nginx.current_config()) else None

    def admin(self) -> AdminClient:
        # The token file appears with `strangle up`: until then, look again on every call.
        if self._admin is None or self._admin.token is None:
            if self._admin is not None:
                self._admin.close()
            self._admin = AdminClient.for_site(self.site)
        return self._admin

    def render_step(self, step_id: str) -> Rendered:
        plan = self.plan()
        return render_parts(plan, self._step(plan, step_id), self.site.options)

    def up(self) -> Outcome:
        """Prepare the prefix and the config of the recorded step (the first one on a fresh
        install) before nginx starts; if nginx already runs, make that config live."""
        with self._locked():
            self.nginx.prepare()
            plan = self.plan()
            state = self.state()
            step_id = state.step or plan.steps[0].id
            if state.step and state.step not in plan.step_ids:
                raise ProxyError(
                    f"{self.site.state_path} records step {state.step!r}, which the plan no "
                    f"longer has: run `strangle apply STEP` with one of {', '.join(plan.step_ids)}"
                )
            return self._move(plan, step_id, state, action="up", gated=False)

    def apply(self, step_id: str, *, gated: bool = True) -> Outcome:
        """Move to `step_id`; `gated=False` skips the gate (a test driving fake backends)."""
        with self._locked():
            plan = self.plan()
            return self._move(plan, step_id, self.state(), action="apply", gated=gated)

    def rollback(self, *, gated: bool = True) -> Outcome:
        with self._locked():
            plan = self.plan()
            state = self.state()
            if not state.stack:
                raise ProxyError("nothing to roll back to: no earlier step was applied")
            return self._move(plan, state.stack[-1], state, action="rollback", gated=gated)

    def dry_run(self, step_id: str) -> Rendered:
        rendered = self.render_step(step_id)
        self.nginx.test(rendered.config)
        return rendered

    # -- the move itself -----------------------------------------------------------------

    def _move(self, plan: Plan, step_id: str, state: State, *, action: str, gated: bool) -> Outcome:
        step = self._step(plan, step_id)
        rendered = render_parts(plan, step, self.site.options)
        self.log(
            f"rendered {step.id}: structure {rendered.structure_hash}, table {rendered.table.hash}"
        )
        self.nginx.test(rendered.config)
        self.log("nginx -t: ok")
        previous_step = state.step
        current = plan.step(previous_step) if previous_step in plan.step_ids else None
        if gated and self.gate is not None:
            refusal = self.gate.refusal(
                plan=plan, current=current, target=step, rollback=action == "rollback"
            )
            if refusal:
                raise ProxyError(refusal)
            self.log("gate: the step may flip")
        previous_config = self.nginx.current_config()
        previous = self.installed()
        running = self.nginx.running()
        admin = self.admin()
        live = admin.live() if running else None
        if running and live is None:
            raise ProxyError(
                f"nginx runs but its probe at {self.site.options.internal_url}/__strangler/step "
                "does not answer; nothing was changed"
            )
        expected = Live(rendered.step, rendered.table.hash, rendered.structure_hash)
        flipping = action != "up" and (current is None or current.id != step.id)
        if flipping:
            self._run_hooks("before_flip", plan, current, step)
        if running and live == expected and previous_config == rendered.config:
            mode = "unchanged"
        elif not running:
            self._install(rendered.config, _record(rendered))
            mode = "offline"
        else:
            mode = "push" if live and live.structure == rendered.structure_hash else "reload"
            self._install(rendered.config, _record(rendered))
            try:
                self._make_live(admin, rendered, mode)
            except ProxyError as error:
                restored = self._restore(admin, previous_config, previous, mode)
                if flipping:
                    self._abandon_hooks(plan, current, step)
                raise ProxyError(f"{error}; {restored}") from None
        if flipping:
            try:
                self._run_hooks("after_flip", plan, current, step)
            except ProxyError as error:
                restored = (
                    self._restore(admin, previous_config, previous, mode)
                    if running
                    else (self._restore_offline(previous_config, previous))
                )
                self._abandon_hooks(plan, current, step)
                raise ProxyError(f"{error}; {restored}") from None
        state.record(
            action=action,
            step=step.id,
            table_hash=rendered.table.hash,
            structure_hash=rendered.structure_hash,
            mode=mode,
        )
        save_state(self.site.state_path, state)
        return Outcome(step=step.id, previous=previous_step, mode=mode, rendered=rendered)

    def _install(self, config: str, record: Installed | None) -> None:
        """Swap the config in, then its record; a record missing or left from another config
        is never trusted (`installed`), so a crash between the two writes misleads nothing."""
        self.nginx.install(config)
        path = self.site.state_dir / FILE_NAME
        if record is None:
            path.unlink(missing_ok=True)
        else:
            save_installed(path, record)

    def _make_live(self, admin: AdminClient, rendered: Rendered, mode: str) -> None:
        if mode == "push":
            admin.push(rendered.table.text)
            self.log("step table pushed to the running workers")
        else:
            self.nginx.reload()
            self.log("nginx reloaded")
        admin.wait_live(
            step=rendered.step,
            table=rendered.table.hash,
            structure=rendered.structure_hash,
            timeout=PROBE_TIMEOUT,
        )
        self.log("probe: the new step is live")

    def _restore(
        self,
        admin: AdminClient,
        previous_config: str | None,
        previous: Installed | None,
        mode: str,
    ) -> str:
        """Put the previous config back and make sure it is what runs; say what happened."""
        if previous_config is None:
            return "there was no previous config to restore"
        self._install(previous_config, previous)
        if previous is None:
            self.nginx.reload()
            return "the previous config was restored and reloaded"
        if admin.live() == previous.live:
            return "the previous config was restored (the previous step never stopped serving)"
        try:
            if mode == "push":
                admin.push(previous.table.text)
            else:
                self.nginx.reload()
            admin.wait_live(
                step=previous.live.step,
                table=previous.live.table,
                structure=previous.live.structure,
                timeout=PROBE_TIMEOUT,
            )
        except ProxyError as error:
            return f"restoring the previous config failed too: {error}"
        return f"the previous config was restored and step {previous.live.step} is live again"

    def _restore_offline(self, previous_config: str | None, previous: Installed | None) -> str:
        if previous_config is None:
            return "there was no previous config to restore"
        self._install(previous_config, previous)
        return "the previous config was restored"

    def _run_hooks(self, phase: str, plan: Plan, current: Step | None, target: Step) -> None:
        for hook in self.hooks:
            try:
                getattr(hook, phase)(plan=plan, current=current, target=target)
            except ProxyError:
                raise
            except Exception as error:
                name = type(hook).__name__
                detail = str(error) or type(error).__name__
                if isinstance(error, LookupError | AttributeError | TypeError):
                    detail = f"{type(error).__name__}: {error}"  # "'key'" alone says nothing
                raise ProxyError(f"{name}.{phase} refused: {detail}") from error
            self.log(f"{type(hook).__name__}.{phase}: ok")

    def _abandon_hooks(self, plan: Plan, current: Step | None, target: Step) -> None:
        """Every hook undoes what it started, whatever the others do; a failure is logged, the
        flip's own error is the one reported."""
        for hook in self.hooks:
            try:
                hook.flip_abandoned(plan=plan, current=current, target=target)
            except Exception as error:
                self.log(f"{type(hook).__name__}.flip_abandoned failed: {error}")

    @staticmethod
    def _step(plan: Plan, step_id: str) -> Step:
        try:
            return plan.step(step_id)
        except KeyError as error:
            raise ProxyError(error.args[0]) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.site.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.site.state_dir / "apply.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ProxyError("another strangle apply/rollback/up is running") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _record(rendered: Rendered) -> Installed:
    return Installed(
        config=config_hash(rendered.config),
        structure_hash=rendered.structure_hash,
        table=rendered.table,
    )
