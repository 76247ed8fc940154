"""Running nginx from the private prefix: test a config, swap it atomically, signal the master.

`nginx -p PREFIX/ -c conf/nginx.conf -e logs/error.log` keeps every file nginx reads or writes
(config, pid, logs, temp, the Lua runtime) under the prefix, so it never touches /etc/nginx or
/var/log/nginx.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path

from strangler.proxy import assets
from strangler.proxy.errors import ProxyError
from strangler.proxy.site import Site

CONF = "conf/nginx.conf"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def write_atomically(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Readers see the old file or the new one, never a half-written one, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Nginx:
    def __init__(self, site: Site) -> None:
        self.site = site

    def command(self, *args: str, conf: str = CONF) -> list[str]:
        return [
            self.site.nginx_bin,
            "-p",
            f"{self.site.prefix}/",
            "-c",
            conf,
            "-e",
            "logs/error.log",
            *args,
        ]

    def foreground_command(self) -> list[str]:
        """nginx as a child process (supervisor, tests): the master stays in the foreground."""
        return self.command("-g", "daemon off;")

    def prepare(self) -> None:
        """Create the prefix, the admin token that guards the step-table endpoint and the
        package's Lua runtime where the config's lua_package_path looks for it.

        Workers keep the code they loaded until a reload; the structure hash covers the Lua,
        so a changed runtime is always applied with one."""
        prefix = self.site.prefix
        for folder in ("conf", "logs", *(f"temp/{name}" for name in TEMP_DIRS)):
            (prefix / folder).mkdir(parents=True, exist_ok=True)
        if not self.site.token_path.exists():
            write_atomically(self.site.token_path, secrets.token_urlsafe(32) + "\n", mode=0o600)
        for relative, text in assets.lua_sources():
            path = prefix / assets.LUA / relative
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                write_atomically(path, text)

    def admin_token(self) -> str:
        try:
            return self.site.token_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ProxyError(
                f"no admin token at {self.site.token_path}: run `strangle up`"
            ) from None

    def test(self, config: str) -> None:
        """`nginx -t` on `config` before it may replace the live one."""
        self.prepare()
        candidate = "conf/nginx.conf.candidate"
        path = self.site.prefix / candidate
        write_atomically(path, config)
        try:
            result = self._run(self.command("-t", "-q", conf=candidate))
        finally:
            path.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ProxyError(f"nginx -t rejected the config: {_last_line(result.stderr)}")

    def current_config(self) -> str | None:
        try:
            return self.site.conf_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def install(self, config: str) -> None:
        write_atomically(self.site.conf_path, config)

    def pid(self) -> int | None:
        """The master's pid if it is running, else None."""
        try:
            pid = int(self.site.pid_path.read_text(encoding="ascii").strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def reload(self) -> None:
        """Graceful reload: new workers take the new config, old ones finish their requests."""
        pid = self.pid()
        if pid is None:
            raise ProxyError("nginx is not running")
        os.kill(pid, signal.SIGHUP)

    def start_daemon(self) -> None:
        """Start nginx in the background without a process manager (`make proxy-start`)."""
        if self.running():
            return
        result = self._run(self.command())
        if result.returncode != 0:
            raise ProxyError(f"nginx did not start: {_last_line(result.stderr)}")

    def stop(self) -> None:
        """Graceful shutdown: QUIT lets workers finish within worker_shutdown_timeout."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)

    def _run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except FileNotFoundError:
            raise ProxyError(
                f"{self.site.nginx_bin} not found: run `make proxy-install` "
                "(apt-get install -y nginx libnginx-mod-http-lua)"
            ) from None


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if "test failed" not in line]
    return (meaningful or lines or ["no output"])[-1]
