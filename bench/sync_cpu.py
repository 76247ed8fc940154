"""Where the time goes during a load: CPU per component from /proc (Linux), and PostgreSQL's
side (sessions opened, what active sessions wait on).

A snapshot holds the user + system CPU time of every process of interest: the bench's own
children (gunicorn, Celery consumers, relays, the generator, grouped by their command line), the
bench itself (its load-client threads), the PostgreSQL backends serving each bench database
(their command line names the database) and the rest of PostgreSQL, Redis; plus the machine's
busy and total time from /proc/stat. The difference of two snapshots is what each component used
in between; "other" is what the machine spent on anything else (other people's work included).
Processes that start and exit between two snapshots are not seen: their time lands in "other"
(a PostgreSQL backend opened and closed for each Celery task, for one), which is why CpuMeter
also counts the sessions opened on each database (pg_stat_database.sessions) and samples
pg_stat_activity's wait events (WaitSampler).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessTime:
    component: str
    seconds: float


@dataclass
class Snapshot:
    processes: dict[int, ProcessTime] = field(default_factory=dict)
    busy_s: float = 0.0
    total_s: float = 0.0


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a process, None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _cmdline(pid: int) -> str:
    try:
        return (
            (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, all cores."""
    try:
        values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / TICKS, total / TICKS


def classify(command: str, *, databases: dict[str, str], own: bool) -> str | None:
    """The component a process belongs to: `databases` maps a database name to a label."""
    if command.startswith("postgres"):
        for name, label in databases.items():
            if f" {name} " in f"{command} ":
                return f"postgres: {label} database"
        return "postgres: other (checkpointer, WAL, other databases)"
    if "redis-server" in command:
        return "redis"
    if not own:
        return None
    backend = "auth" if ("authsvc" in command or "extracted/auth" in command) else "monolith"
    if "sync_relay" in command:
        return f"{backend} relay"
    if "celery" in command and " worker" in command:
        return f"{backend} consumers" if "--queues sync." in command else f"{backend} celery"
    if "gunicorn" in command:
        return f"{backend} gunicorn"
    if "bench.sync_generator" in command:
        return "generator"
    if "manage.py" in command:
        return f"{backend} manage.py"
    return "other bench children"


def snapshot(*, databases: dict[str, str]) -> Snapshot:
    root = os.getpid()
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)], times[int(entry.name)] = stat
    descendants = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in descendants and pid not in descendants:
                descendants.add(pid)
                changed = True
    result = Snapshot()
    for pid, seconds in times.items():
        if pid == root:
            result.processes[pid] = ProcessTime(
                "bench (load clients, parity, lag queries)", seconds
            )
            continue
        component = classify(_cmdline(pid), databases=databases, own=pid in descendants)
        if component is not None:
            result.processes[pid] = ProcessTime(component, seconds)
    result.busy_s, result.total_s = _machine()
    return result


def database_sessions(admin_url: str, names: list[str]) -> dict[str, int]:
    """PostgreSQL's count of sessions ever opened on each database (pg_stat_database, 14+)."""
    import psycopg

    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT datname, sessions FROM pg_stat_database WHERE datname = ANY(%s)", [names]
        ).fetchall()
    return {name: int(count or 0) for name, count in rows}


class WaitSampler:
    """Samples pg_stat_activity every `interval` s in a thread: the average number of active
    sessions of each database per wait event ("CPU" when a session waits on nothing), the
    PostgreSQL side of where writers and consumers spend their time."""

    def __init__(self, admin_url: str, databases: dict[str, str], interval: float = 0.1):
        self.admin_url = admin_url
        self.databases = databases
        self.interval = interval
        self.samples = 0
        self.counts: dict[str, dict[str, int]] = {label: {} for label in databases.values()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="wait-sampler")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, dict[str, float]]:
        self._stop.set()
        self._thread.join(timeout=5)
        samples = max(1, self.samples)
        return {
            label: {
                event: round(count / samples, 2)
                for event, count in sorted(events.items(), key=lambda kv: -kv[1])
            }
            for label, events in self.counts.items()
        }

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                while not self._stop.wait(self.interval):
                    rows = conn.execute(
                        "SELECT datname, coalesce(wait_event_type || ':' || wait_event, 'CPU'), "
                        "count(*) FROM pg_stat_activity WHERE state = 'active' "
                        "AND pid <> pg_backend_pid() AND datname = ANY(%s) GROUP BY 1, 2",
                        [list(self.databases)],
                    ).fetchall()
                    self.samples += 1
                    for name, event, count in rows:
                        events = self.counts[self.databases[name]]
                        events[event] = events.get(event, 0) + int(count)
        except Exception:  # a sampler that cannot connect leaves its figures empty
            return


@dataclass
class CpuUsage:
    wall_s: float
    cores: int
    by_component: dict[str, float]  # CPU seconds
    machine_busy_s: float
    new_sessions: dict[str, int] = field(default_factory=dict)  # database label -> connections
    # database label -> wait event -> average active sessions (WaitSampler)
    waits: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def accounted_s(self) -> float:
        return sum(self.by_component.values())

    @property
    def busy_percent(self) -> float:
        capacity = self.wall_s * self.cores
        return 100.0 * self.machine_busy_s / capacity if capacity else 0.0

    def to_dict(self) -> dict:
        return {
            "wall_s": round(self.wall_s, 2),
            "cores": self.cores,
            "machine_busy_percent": round(self.busy_percent, 1),
            "cpu_s": {k: round(v, 2) for k, v in self.by_component.items()},
            "other_s": round(max(0.0, self.machine_busy_s - self.accounted_s), 2),
            "new_database_sessions": self.new_sessions,
            "database_active_sessions": self.waits,
        }


def usage(before: Snapshot, after: Snapshot, *, wall_s: float) -> CpuUsage:
    by_component: dict[str, float] = {}
    for pid, end in after.processes.items():
        start = before.processes.get(pid)
        used = end.seconds - (start.seconds if start and start.component == end.component else 0)
        by_component[end.component] = by_component.get(end.component, 0.0) + max(0.0, used)
    # Whole-machine time counts every core; wall_s * cores is the capacity.
    return CpuUsage(
        wall_s=wall_s,
        cores=os.cpu_count() or 1,
        by_component=dict(sorted(by_component.items(), key=lambda kv: -kv[1])),
        machine_busy_s=after.busy_s - before.busy_s,
    )


class CpuMeter:
    """`with CpuMeter(databases, admin_url) as meter: ...` then meter.result (a CpuUsage).
    With `admin_url` (a PostgreSQL URL of the server), also the sessions opened meanwhile on
    each database of `databases` (name -> label)."""

    def __init__(self, databases: dict[str, str], admin_url: str | None = None) -> None:
        self.databases = databases
        self.admin_url = admin_url
        self.result: CpuUsage | None = None

    def _sessions(self) -> dict[str, int]:
        if not self.admin_url:
            return {}
        try:
            return database_sessions(self.admin_url, list(self.databases))
        except Exception:  # an older server (no sessions column): no figure, not a failure
            return {}

    def __enter__(self) -> CpuMeter:
        self._sessions_before = self._sessions()
        self._sampler = WaitSampler(self.admin_url, self.databases) if self.admin_url else None
        if self._sampler is not None:
            self._sampler.start()
        self._started = time.monotonic()
        self._before = snapshot(databases=self.databases)
        return self

    def __exit__(self, *exc) -> None:
        after = snapshot(databases=self.databases)
        self.result = usage(self._before, after, wall_s=time.monotonic() - self._started)
        if self._sampler is not None:
            self.result.waits = self._sampler.stop()
        sessions = self._sessions()
        self.result.new_sessions = {
            self.databases[name]: count - self._sessions_before.get(name, count)
            for name, count in sessions.items()
        }
