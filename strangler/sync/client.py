"""The /internal/sync/ API of one backend, as the CLI and the flip call it."""

from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from strangler.conf import strangler_settings
from strangler.errors import InternalAPIError, StranglerError
from strangler.service import internal_token
from strangler.service.http import service_client

from .payloads import (
    Behind,
    BehindRequest,
    Changed,
    ChangeRequest,
    Checksums,
    ChecksumsQuery,
    Fenced,
    FenceRequest,
    Hashes,
    HashesQuery,
    Ownership,
    OwnershipChange,
    Payload,
    Query,
    Repaired,
    RepairRequest,
    Row,
    RowsAnswer,
    RowsPage,
    RowsQuery,
    SequencesMoved,
    SequencesRequest,
    Status,
    StoredRows,
    Watermark,
    describe,
)
from .states import OwnershipState

Answer = TypeVar("Answer", bound=BaseModel)


class SyncError(StranglerError):
    """A sync step failed; the message says where and why, in one line."""


class BackendRefused(InternalAPIError, SyncError):
    """A backend answered a sync call with an error: its `status` and `detail`."""


@dataclass
class BackendSync:
    name: str
    base_url: str
    timeout: float = 60.0

    def _call(self, method: str, path: str, *, answer: type[Answer], **kwargs) -> Answer:
        response = self._send(method, path, **kwargs)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as error:
            raise SyncError(
                f"{self.name}: {method} /internal/sync/{path}: unexpected answer: {describe(error)}"
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Payload | None = None,
        **kwargs,
    ) -> httpx.Response:
        if query is not None:
            kwargs["params"] = query.params()
        if body is not None:
            kwargs["json"] = body.model_dump(mode="json")
        headers = {**kwargs.pop("headers", {}), internal_token.HEADER: self._token()}
        try:
            with service_client(self.base_url, timeout=self.timeout, retries=2) as client:
                response = client.request(
                    method, f"/internal/sync/{path}", headers=headers, **kwargs
                )
        except httpx.HTTPError as exc:
            raise SyncError(f"{self.name} ({self.base_url}) is unreachable: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail", response.text))
            except (ValueError, AttributeError):  # not JSON, or not an object
                detail = response.text[:200]
            if response.status_code == 404 and detail == internal_token.REFUSAL:
                # How a backend answers a wrong token too: say so, or the cause stays hidden.
                detail += " (or this caller's STRANGLER_INTERNAL_TOKEN is not the backend's)"
            raise BackendRefused(
                detail,
                status=response.status_code,
                call=f"{self.name}: {method} /internal/sync/{path}",
            )
        return response

    def _token(self) -> str:
        token = strangler_settings.INTERNAL_TOKEN
        if not token:
            raise SyncError(
                f"{self.name}: no internal token to call it with: set STRANGLER_INTERNAL_TOKEN "
                "(or STRANGLER_INTERNAL_TOKEN_FILE), or in development start a backend first, "
                "which writes var/keys/internal.token"
            )
        return token

    def status(self) -> Status:
        return self._call("GET", "status", answer=Status)

    def page(self, aggregate: str, *, after: int, limit: int) -> RowsPage:
        """A page of rows as the backend sent it: a backfill hands it on to the copy as it is,
        without decoding and encoding every row in between."""
        query = RowsQuery(after=after, limit=limit)
        response = self._send("GET", f"aggregates/{aggregate}/rows", query=query)
        try:
            return RowsPage.from_headers(response.headers, body=response.content)
        except ValidationError as error:
            raise SyncError(
                f"{self.name}: a page of {aggregate} without its headers: {describe(error)}"
            ) from None

    def store_page(self, aggregate: str, page: RowsPage) -> int:
        return self._call(
            "POST",
            f"aggregates/{aggregate}/rows",
            answer=StoredRows,
            content=page.body,
            headers={"Content-Type": "application/json"},
        ).upserted

    def rows(self, aggregate: str, *, after: int, limit: int) -> RowsAnswer:
        query = RowsQuery(after=after, limit=limit)
        return self._call("GET", f"aggregates/{aggregate}/rows", answer=RowsAnswer, query=query)

    def rows_by_id(self, aggregate: str, ids: list[int]) -> list[Row]:
        query = RowsQuery(ids=ids, limit=max(1, len(ids)))
        return self._call(
            "GET", f"aggregates/{aggregate}/rows", answer=RowsAnswer, query=query
        ).rows

    def repair(self, aggregate: str, *, rows: list[Row], delete: list[int]) -> Repaired:
        return self._call(
            "POST",
            f"aggregates/{aggregate}/repair",
            answer=Repaired,
            body=RepairRequest(rows=rows, delete=delete),
        )

    def change(self, aggregate: str, *, pk: int, fields: dict) -> Changed:
        """Asks the owner to change fields of one row (in payload form), as its own write."""
        return self._call(
            "POST",
            f"aggregates/{aggregate}/changes",
            answer=Changed,
            body=ChangeRequest(id=pk, fields=fields),
        )

    def checksums(self, aggregate: str, *, chunk: int) -> Checksums:
        query = ChecksumsQuery(chunk=chunk)
        return self._call("GET", f"aggregates/{aggregate}/checksums", answer=Checksums, query=query)

    def hashes(self, aggregate: str, *, start: int, end: int) -> dict[str, str]:
        query = HashesQuery(start=start, end=end)
        return self._call("GET", f"aggregates/{aggregate}/hashes", answer=Hashes, query=query).rows

    def move_sequences(
        self, domain: str, *, floor: dict[str, int], gap: int, backfilled: bool = False
    ) -> SequencesMoved:
        return self._call(
            "POST",
            f"domains/{domain}/sequences",
            answer=SequencesMoved,
            body=SequencesRequest(floor=floor, gap=gap, backfilled=backfilled),
        )

    def fence(self, domain: str, *, owner: str, after: int) -> Fenced:
        """Fences the domain's writes there; the answer holds the watermark and the max ids."""
        return self._call(
            "POST",
            f"domains/{domain}/fence",
            answer=Fenced,
            body=FenceRequest(owner=owner, after=after),
        )

    def behind(self, watermark: Watermark) -> Behind:
        return self._call(
            "POST",
            "behind",
            answer=Behind,
            body=BehindRequest(watermark=watermark),
        )

    def ownership(self, domain: str) -> Ownership:
        return self._call("GET", f"domains/{domain}/ownership", answer=Ownership)

    def set_ownership(self, domain: str, *, owner: str, state: OwnershipState) -> Ownership:
        return self._call(
            "PUT",
            f"domains/{domain}/ownership",
            answer=Ownership,
            body=OwnershipChange(owner=owner, state=state),
        )
