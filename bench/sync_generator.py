"""An open-loop write load on the auth domain that calls its services in-process.

The load generator of the sync benchmark's throughput phase: no HTTP, no gunicorn, so what it
measures is the sync pipeline (outbox, relay, broker, consumers), not the web tier. It runs as
one or more subprocesses with the monolith's settings and database (`Generator` starts them and
splits the chains and the rate between them), each taking commands as JSON lines on stdin and
answering each with one JSON line on stdout:

    {"cmd": "prepare", "chains": 2000, "part": 0, "parts": 2}   # this process's 1,000 chains
    {"cmd": "run", "rate": 100, "duration": 60, "kind": "rotate", "threads": 4}

`prepare` logs users in (accounts.services._issue_pair, one event each), users spread evenly
over the ids so that their events spread over the sync partitions (a token's partition is its
user's). `run` then writes `rate` events per second for `duration` seconds on a fixed
schedule (operation n is due at start + n / operations per second, its latency counts from
then, so a generator or database that falls behind shows it instead of slowing the load down):

- kind "rotate": accounts.services.rotate_refresh_token on chain n % chains: two events (the
  spent token, the new one), so `rate` / 2 rotations per second;
- kind "rename": user.save() of a new name for user n % chains: one event each.

End of input ends the process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.sync_lag import distribution

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_PER_OPERATION = {"rotate": 2, "rename": 1}
DOMAIN = "auth"
MAX_ERROR_SAMPLES = 10


# -- the subprocess side ------------------------------------------------------------------------
@dataclass
class RunFigures:
    """One load's figures, from one generator process or merged over several."""

    kind: str
    rate: float  # events per second offered
    duration_s: float
    threads: int
    processes: int = 1
    operations: int = 0  # offered
    succeeded: int = 0
    errors: int = 0
    wall_s: float = 0.0  # from the first due time until the last operation finished
    latencies_ms: list[float] = field(default_factory=list)  # from each due time to its commit
    start_delays_ms: list[float] = field(default_factory=list)  # due time -> started
    error_samples: list[str] = field(default_factory=list)

    @classmethod
    def merge(cls, parts: list[RunFigures]) -> RunFigures:
        first = parts[0]
        merged = cls(
            kind=first.kind,
            rate=sum(p.rate for p in parts),
            duration_s=first.duration_s,
            threads=first.threads,
            processes=len(parts),
        )
        for part in parts:
            merged.operations += part.operations
            merged.succeeded += part.succeeded
            merged.errors += part.errors
            merged.wall_s = max(merged.wall_s, part.wall_s)
            merged.latencies_ms += part.latencies_ms
            merged.start_delays_ms += part.start_delays_ms
            merged.error_samples += part.error_samples[
                : MAX_ERROR_SAMPLES - len(merged.error_samples)
            ]
        return merged

    def summary(self) -> dict[str, Any]:
        events = self.succeeded * EVENTS_PER_OPERATION[self.kind]
        latency = distribution(self.latencies_ms)
        delay = distribution(self.start_delays_ms)
        return {
            "kind": self.kind,
            "rate": self.rate,
            "duration_s": self.duration_s,
            "processes": self.processes,
            "threads": self.threads,
            "operations": self.operations,
            "succeeded": self.succeeded,
            "errors": self.errors,
            "events": events,
            "wall_s": round(self.wall_s, 3),
            "achieved_events_per_s": round(events / self.wall_s, 1) if self.wall_s else 0.0,
            "latency_ms": vars(latency) if latency else None,
            "start_delay_ms": vars(delay) if delay else None,
            "error_samples": self.error_samples,
        }


class Writer:
    """Holds the chains (user id, current raw refresh token) between commands."""

    def __init__(self) -> None:
        self.users: list[int] = []
        self.tokens: list[str] = []
        self.pool: ThreadPoolExecutor | None = None
        self.pool_size = 0

    def _executor(self, threads: int) -> ThreadPoolExecutor:
        if self.pool is None or self.pool_size != threads:
            if self.pool is not None:
                self._shutdown()
            self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="writer")
            self.pool_size = threads
        return self.pool

    def _shutdown(self) -> None:
        from django.db import connections

        if self.pool is not None:
            # Each worker thread holds its own database connection: close them in their threads.
            barrier = threading.Barrier(self.pool_size)
            futures = [
                self.pool.submit(lambda: (barrier.wait(timeout=10), connections.close_all()))
                for _ in range(self.pool_size)
            ]
            for future in futures:
                future.exception()
            self.pool.shutdown(wait=True)
            self.pool = None

    def prepare(self, *, chains: int, part: int = 0, parts: int = 1, threads: int = 4) -> dict:
        """Issues this process's share of `chains` (every `parts`-th of the users chosen)."""
        from accounts.models import User

        started = time.perf_counter()
        ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
        if not ids:
            raise RuntimeError("no users to issue refresh tokens to")
        chains = min(chains, len(ids))
        step = len(ids) / chains
        self.users = [ids[int(n * step)] for n in range(chains)][part::parts]
        self.tokens = [""] * len(self.users)
        pool = self._executor(threads)
        for future in [pool.submit(self._issue, n) for n in range(len(self.users))]:
            future.result()
        return {"chains": len(self.users), "seconds": round(time.perf_counter() - started, 3)}

    def _issue(self, number: int) -> None:
        from django.db import transaction

        from accounts.models import User
        from accounts.services import _issue_pair
        from strangler.sync.ownership import require_ownership

        with transaction.atomic():
            require_ownership(DOMAIN)
            user = User.objects.get(pk=self.users[number])
            self.tokens[number] = _issue_pair(user=user, family=uuid.uuid4()).refresh

    def _rotate(self, number: int) -> None:
        from accounts.services import rotate_refresh_token

        chain = number % len(self.tokens)
        self.tokens[chain] = rotate_refresh_token(refresh_token=self.tokens[chain]).refresh

    def _rename(self, number: int) -> None:
        from accounts.models import User

        user = User.objects.get(pk=self.users[number % len(self.users)])
        user.name = f"Renamed {number}"
        user.save(update_fields=["name"])

    def run(self, *, rate: float, duration: float, kind: str, threads: int) -> dict[str, Any]:
        if not self.users:
            raise RuntimeError("prepare first")
        operation = {"rotate": self._rotate, "rename": self._rename}[kind]
        per_second = rate / EVENTS_PER_OPERATION[kind]
        total = max(1, round(per_second * duration))
        figures = RunFigures(kind=kind, rate=rate, duration_s=duration, threads=threads)
        figures.operations = total
        lock = threading.Lock()
        finished_at = [0.0]

        def call(number: int, due: float) -> None:
            started = time.monotonic()
            try:
                operation(number)
                error = None
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            done = time.monotonic()
            with lock:
                finished_at[0] = max(finished_at[0], done)
                figures.start_delays_ms.append((started - due) * 1000.0)
                if error is None:
                    figures.succeeded += 1
                    figures.latencies_ms.append((done - due) * 1000.0)
                else:
                    figures.errors += 1
                    if len(figures.error_samples) < MAX_ERROR_SAMPLES:
                        figures.error_samples.append(error)

        pool = self._executor(threads)
        start = time.monotonic() + 0.05
        futures = []
        for number in range(total):
            due = start + number / per_second
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(call, number, due))
        for future in futures:
            future.result()
        figures.wall_s = finished_at[0] - start
        return asdict(figures)

    def close(self) -> None:
        self._shutdown()


def serve(commands: IO[str], answers: IO[str]) -> None:
    writer = Writer()
    try:
        for line in commands:
            if not line.strip():
                continue
            command = json.loads(line)
            try:
                if command["cmd"] == "prepare":
                    answer = {
                        "ok": True,
                        **writer.prepare(
                            chains=int(command["chains"]),
                            part=int(command.get("part", 0)),
                            parts=int(command.get("parts", 1)),
                        ),
                    }
                elif command["cmd"] == "run":
                    answer = {
                        "ok": True,
                        **writer.run(
                            rate=float(command["rate"]),
                            duration=float(command["duration"]),
                            kind=str(command.get("kind", "rotate")),
                            threads=int(command.get("threads", 8)),
                        ),
                    }
                else:
                    answer = {"ok": False, "error": f"unknown command {command['cmd']!r}"}
            except Exception as exc:
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
    finally:
        writer.close()


def main() -> None:
    import django

    # Only answers go to stdout: anything else printed (Django's warnings, logging) goes to
    # stderr, which the bench appends to the monolith's log.
    answers = sys.stdout
    sys.stdout = sys.stderr
    django.setup()
    serve(sys.stdin, answers)


# -- the bench side -----------------------------------------------------------------------------
class GeneratorError(RuntimeError):
    pass


class Generator:
    """`processes` subprocesses `python -m bench.sync_generator` with a backend's environment (its
    settings module and database URL), sharing the chains and the rate between them (one
    process's threads share one GIL: a rotation costs a few ms of Python); a context manager."""

    def __init__(self, *, env: dict[str, str], log_path: Path, processes: int = 1) -> None:
        python_path = os.pathsep.join(
            filter(None, [str(REPO_ROOT / "monolith"), str(REPO_ROOT), env.get("PYTHONPATH")])
        )
        self.env = {**env, "PYTHONPATH": python_path}
        self.log_path = log_path
        self.count = processes
        self.processes: list[subprocess.Popen[str]] = []

    def __enter__(self) -> Generator:
        try:
            with self.log_path.open("ab") as log:
                for _ in range(self.count):
                    log.write(b"$ python -m bench.sync_generator\n")
                    log.flush()
                    self.processes.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "bench.sync_generator"],
                            cwd=REPO_ROOT,
                            env=self.env,
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE,
                            stderr=log,
                            text=True,
                            bufsize=1,
                        )
                    )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        processes, self.processes = self.processes, []
        for process in processes:
            with contextlib.suppress(OSError):
                process.stdin.close()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _ask_all(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sends each process its command first, then reads the answers: they run together."""
        if not self.processes:
            raise GeneratorError("the generator is not running")
        for process, command in zip(self.processes, commands, strict=True):
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        answers = []
        for process in self.processes:
            line = process.stdout.readline()
            if not line:
                raise GeneratorError(
                    f"a generator process exited ({process.poll()}); see {self.log_path}"
                )
            answer = json.loads(line)
            if not answer.pop("ok", False):
                raise GeneratorError(f"generator: {answer.get('error')}")
            answers.append(answer)
        return answers

    def prepare(self, *, chains: int) -> dict[str, Any]:
        started = time.perf_counter()
        answers = self._ask_all(
            [
                {"cmd": "prepare", "chains": chains, "part": part, "parts": self.count}
                for part in range(self.count)
            ]
        )
        return {
            "chains": sum(a["chains"] for a in answers),
            "processes": self.count,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def run(self, *, rate: float, duration: float, kind: str, threads: int) -> dict[str, Any]:
        command = {
            "cmd": "run",
            "rate": rate / self.count,
            "duration": duration,
            "kind": kind,
            "threads": threads,
        }
        answers = self._ask_all([command] * self.count)
        return RunFigures.merge([RunFigures(**answer) for answer in answers]).summary()


if __name__ == "__main__":
    main()
