"""The /internal/sync/ API of one backend, as the CLI and the flip call it."""

from dataclasses import dataclass

import httpx

from strangler.conf import strangler_settings
from strangler.errors import StranglerError
from strangler.service.http import service_client

# A page of rows says in headers what its reader needs, so the page itself can pass undecoded.
ROW_COUNT_HEADER = "X-Strangler-Rows"
LAST_ID_HEADER = "X-Strangler-Last-Id"
NEXT_AFTER_HEADER = "X-Strangler-Next-After"


@dataclass(frozen=True)
class RowsPage:
    body: bytes  # {"rows": [...], "next_after": ...}, also what the rows endpoint takes
    count: int
    last_id: int
    next_after: int | None


class SyncError(StranglerError):
    """A sync step failed; the message says where and why, in one line."""


@dataclass
class BackendSync:
    name: str
    base_url: str
    timeout: float = 60.0

    def _call(self, method: str, path: str, **kwargs) -> dict:
        return self._send(method, path, **kwargs).json()

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        token = strangler_settings.INTERNAL_TOKEN
        if token:
            headers["X-Internal-Token"] = token
        try:
            with service_client(self.base_url, timeout=self.timeout, retries=2) as client:
                response = client.request(
                    method, f"/internal/sync/{path}", headers=headers, **kwargs
                )
        except httpx.HTTPError as exc:
            raise SyncError(f"{self.name} ({self.base_url}) is unreachable: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text[:200]
            raise SyncError(
                f"{self.name}: {method} /internal/sync/{path}: {response.status_code} {detail}"
            )
        return response

    def status(self) -> dict:
        return self._call("GET", "status")

    def page(self, aggregate: str, *, after: int, limit: int) -> RowsPage:
        """A page of rows as the backend sent it: a backfill hands it on to the copy as it is,
        without decoding and encoding every row in between."""
        response = self._send(
            "GET", f"aggregates/{aggregate}/rows", params={"after": after, "limit": limit}
        )
        next_after = response.headers.get(NEXT_AFTER_HEADER, "")
        return RowsPage(
            body=response.content,
            count=int(response.headers.get(ROW_COUNT_HEADER, "0")),
            last_id=int(response.headers.get(LAST_ID_HEADER, "0")),
            next_after=int(next_after) if next_after else None,
        )

    def store_page(self, aggregate: str, page: RowsPage) -> int:
        return self._send(
            "POST",
            f"aggregates/{aggregate}/rows",
            content=page.body,
            headers={"Content-Type": "application/json"},
        ).json()["upserted"]

    def rows(self, aggregate: str, *, after: int, limit: int) -> dict:
        return self._call(
            "GET", f"aggregates/{aggregate}/rows", params={"after": after, "limit": limit}
        )

    def rows_by_id(self, aggregate: str, ids: list[int]) -> list[dict]:
        return self._call(
            "GET",
            f"aggregates/{aggregate}/rows",
            params={"ids": ",".join(map(str, ids)), "limit": max(1, len(ids))},
        )["rows"]

    def repair(self, aggregate: str, *, rows: list[dict], delete: list[int]) -> dict:
        return self._call(
            "POST", f"aggregates/{aggregate}/repair", json={"rows": rows, "delete": delete}
        )

    def upsert(self, aggregate: str, rows: list[dict]) -> int:
        return self._call("POST", f"aggregates/{aggregate}/rows", json={"rows": rows})["upserted"]

    def change(self, aggregate: str, *, pk: int, fields: dict) -> dict:
        """Asks the owner to change fields of one row (in payload form), as its own write."""
        return self._call(
            "POST", f"aggregates/{aggregate}/changes", json={"id": pk, "fields": fields}
        )

    def checksums(self, aggregate: str, *, chunk: int) -> dict:
        return self._call("GET", f"aggregates/{aggregate}/checksums", params={"chunk": chunk})

    def hashes(self, aggregate: str, *, start: int, end: int) -> dict[str, str]:
        return self._call(
            "GET", f"aggregates/{aggregate}/hashes", params={"start": start, "end": end}
        )["rows"]

    def move_sequences(self, domain: str, *, floor: dict[str, int], gap: int) -> dict:
        return self._call("POST", f"domains/{domain}/sequences", json={"floor": floor, "gap": gap})

    def fence(self, domain: str, *, owner: str, after: int) -> dict:
        """Fences the domain's writes there; returns {"watermark", "max_ids"}."""
        return self._call("POST", f"domains/{domain}/fence", json={"owner": owner, "after": after})

    def behind(self, watermark: dict[str, dict[str, int]]) -> dict:
        return self._call("POST", "behind", json={"watermark": watermark})

    def ownership(self, domain: str) -> dict:
        return self._call("GET", f"domains/{domain}/ownership")

    def set_ownership(self, domain: str, *, owner: str, state: str) -> dict:
        return self._call(
            "PUT", f"domains/{domain}/ownership", json={"owner": owner, "state": state}
        )
