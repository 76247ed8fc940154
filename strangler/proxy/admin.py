"""Talking to the running proxy through its internal listener: probe the live step, push a
step table, read the shadow log and the request metrics."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from strangler.proxy.errors import ProxyError
from strangler.proxy.site import Site

TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(frozen=True, slots=True)
class Live:
    step: str
    table: str
    structure: str


class AdminClient:
    def __init__(self, base_url: str, *, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._client: httpx.Client | None = None

    @classmethod
    def for_site(cls, site: Site) -> AdminClient:
        """The client of the site's proxy, with the admin token `strangle up` wrote (None
        until then)."""
        path = site.token_path
        token = path.read_text().strip() if path.exists() else None
        return cls(site.options.internal_url, token=token or None)

    @property
    def client(self) -> httpx.Client:
        # One client: building one costs more than a probe on loopback.
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def headers(self) -> dict[str, str]:
        """The admin token: the probe, the step-table endpoint and the shadow log want it."""
        return {"X-Strangler-Token": self.token} if self.token else {}

    def live(self) -> Live | None:
        """What the proxy serves right now, or None when it does not answer."""
        try:
            response = self.client.get(f"{self.base_url}/__strangler/step", headers=self.headers)
        except httpx.HTTPError:
            return None
        if response.status_code == 403:
            raise ProxyError(
                f"the probe at {self.base_url}/__strangler/step refused the admin token "
                f"({_detail(response)}): is the token file the one this nginx loaded?"
            )
        try:
            data = response.json()
            return Live(step=data["step"], table=data["table"], structure=data["structure"])
        except (ValueError, KeyError, TypeError):
            return None

    def push(self, table_json: str) -> Live:
        """Make the step table `table_json` live without reloading nginx."""
        if not self.token:
            raise ProxyError("no admin token")
        try:
            response = self.client.post(
                f"{self.base_url}/__strangler/table",
                content=table_json.encode(),
                headers={**self.headers, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as error:
            raise ProxyError(f"the proxy's admin endpoint did not answer: {error}") from None
        if response.status_code != 200:
            raise ProxyError(
                f"the proxy refused the step table ({response.status_code}): {_detail(response)}"
            )
        data = response.json()
        return Live(step=data["step"], table=data["table"], structure=data["structure"])

    def wait_live(self, *, step: str, table: str, structure: str, timeout: float) -> Live:
        """Poll the probe until it reports the expected step, table and structure."""
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            seen = self.live()
            if seen == Live(step=step, table=table, structure=structure):
                return seen
            if time.monotonic() >= deadline:
                got = f"{seen.step} (table {seen.table})" if seen else "no answer"
                raise ProxyError(
                    f"the probe at {self.base_url}/__strangler/step shows {got}, "
                    f"not {step} (table {table})"
                )
            time.sleep(0.1)

    def metrics_url(self, *, minutes: float) -> str:
        """The proxy's request metrics over the last `minutes`, counted per whole minute (the
        current one included, so a window covers between minutes - 1 and minutes)."""
        return f"{self.base_url}/__strangler/metrics?minutes={math.ceil(minutes)}"

    def metrics(self, *, minutes: float) -> str | None:
        """The text of metrics_url(minutes=...), or None when the proxy does not answer."""
        try:
            response = self.client.get(self.metrics_url(minutes=minutes))
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            raise ProxyError(f"the proxy's metrics: {response.status_code} {_detail(response)}")
        return response.text

    def clear_shadow_log(self) -> None:
        try:
            response = self.client.delete(
                f"{self.base_url}/__strangler/shadow", headers=self.headers
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise ProxyError(f"cannot clear the shadow log: {error}") from None

    def shadow_log(self, *, limit: int = 100) -> dict[str, Any]:
        try:
            response = self.client.get(
                f"{self.base_url}/__strangler/shadow",
                params={"limit": limit},
                headers=self.headers,
            )
            response.raise_for_status()
            log: dict[str, Any] = response.json()
            return log
        except (httpx.HTTPError, ValueError) as error:
            raise ProxyError(f"cannot read the shadow log: {error}") from None


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))
    except (ValueError, AttributeError):
        return response.text[:200]
