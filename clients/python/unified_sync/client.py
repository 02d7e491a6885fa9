"""The client: one method per route of the service, and ``push`` for pipelines."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode

from .parts import SERVER_MAX_BODY_BYTES, SERVER_MAX_OPERATIONS, ENVELOPE_RESERVE_BYTES
from .push import PushResult, push_records
from .records import RecordMapping
from .records import is_namespace
from .transport import Answer, RetryPolicy, Transport

__all__ = ["Client"]

SYNC_PATH = "/v1/connectors/pipeline/sync"
BOOKMARK_HEADER = "X-D1-Bookmark"
USER_AGENT = "unified-sync-python/0.1"


def now_timestamp() -> str:
    """The current instant as the CLI writes it (``Date.prototype.toISOString``: milliseconds, Z)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _segment(value: str) -> str:
    return quote(value, safe="")


class Client:
    """A client of one deployment of the unified sync endpoint.

    ``url``: the service (``http://127.0.0.1:8787`` for ``npm run dev``). ``api_key``: sent as
    ``X-API-Key``. ``organization_id``: the key's organization; when not given it is read once per
    store from ``GET /v1/vector_stores/{id}``. ``timeout``: seconds per attempt. ``retry``: the
    retry policy of 429, 503, 502, 504 and network errors (the push CLI's by default).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        organization_id: Optional[str] = None,
        timeout: float = 300.0,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        self.organization_id = organization_id
        self._transport = Transport(url, {"X-API-Key": api_key, "User-Agent": USER_AGENT, "Accept": "application/json"}, timeout, retry or RetryPolicy())
        self._organizations: Dict[str, str] = {}
        # The latest sync's D1 bookmark: sent on reads so they see that sync's writes even from a
        # replica that lags (the service uses it only on the shard it came from).
        self._bookmark: Optional[str] = None

    # -- plumbing -------------------------------------------------------------------------------

    def _read(self, method: str, path: str, body: Any = None) -> Any:
        headers = {BOOKMARK_HEADER: self._bookmark} if self._bookmark else {}
        data = None if body is None else json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return self._transport.request(method, path, data, headers).body

    def _post_sync(self, body: bytes, key: Optional[str], label: str) -> Tuple[Dict[str, Any], bool]:
        headers = {"Idempotency-Key": key} if key else {}
        # A sync whose answer was lost may have been applied: only a keyed one is sent again.
        answer: Answer = self._transport.request("POST", SYNC_PATH, body, headers, retry_network=key is not None, label=label)
        bookmark = answer.headers.get(BOOKMARK_HEADER)
        if bookmark:
            self._bookmark = bookmark
        return answer.body, answer.headers.get("Idempotent-Replayed") == "true"

    def _organization_of(self, vector_store_id: str) -> str:
        if self.organization_id is not None:
            return self.organization_id
        if vector_store_id not in self._organizations:
            self._organizations[vector_store_id] = self.vector_store(vector_store_id)["organization_id"]
        return self._organizations[vector_store_id]

    # -- syncs ----------------------------------------------------------------------------------

    def sync(
        self,
        vector_store_id: str,
        sync_mode: str,
        operations: Sequence[Mapping[str, Any]],
        sync_timestamp: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        final: Optional[bool] = None,
        namespaces: Optional[Sequence[str]] = None,
    ) -> Dict[str, Any]:
        """One sync request (``POST /v1/connectors/pipeline/sync``); its answer as a dict.

        At most 5000 operations and 20 MiB (``push`` cuts any number into parts). ``final`` and
        ``namespaces``: a part or the final request of a full_refresh run (docs/runs.md).
        Retried on 429 and 503 (nothing was applied); on a network error only with an
        ``idempotency_key``, which makes a second attempt a replay.
        """
        body: Dict[str, Any] = {
            "organization_id": self._organization_of(vector_store_id),
            "vector_store_id": vector_store_id,
            "sync_mode": sync_mode,
            "sync_timestamp": sync_timestamp or now_timestamp(),
        }
        if final is not None:
            body["final"] = final
        if namespaces is not None:
            body["namespaces"] = list(namespaces)
        body["operations"] = list(operations)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        return self._post_sync(data, idempotency_key, "sync")[0]

    def push(
        self,
        vector_store_id: str,
        records: Iterable[Any],
        mode: str = "incremental",
        namespace: Optional[str] = None,
        id_field: Optional[str] = None,
        delete_field: Optional[str] = None,
        sync_timestamp: Optional[str] = None,
        batch_size: int = SERVER_MAX_OPERATIONS,
        max_body_bytes: int = SERVER_MAX_BODY_BYTES,
    ) -> PushResult:
        """Push any iterable of records (a generator is read one record at a time; one part, at
        most ``batch_size`` operations and ``max_body_bytes``, is held) as ``unified-sync push``
        does.

        With ``namespace``, each record is a raw dict that becomes ``data`` (id from ``id_field``,
        default ``"id"``: a non-empty string or an integer; deleted when ``delete_field`` is
        truthy); without it, each record is an operation dict. ``mode="full_refresh"`` sends one
        run: the namespaces named become exactly what was pushed. Pass the same
        ``sync_timestamp`` to push the same records again after a failure: every part already
        applied is replayed, not applied twice (the default is now).

        Returns a :class:`PushResult` (``by_namespace``, ``results``, ``failures``, ``run``);
        records that could not be sent are counted in ``skipped`` (a full_refresh with skipped
        records sends no final request, so it sweeps nothing). Raises :class:`UnifiedSyncError`
        when a part is refused or retries run out (its ``push_result`` says what was applied).
        """
        if mode not in ("incremental", "full_refresh"):
            raise ValueError("mode must be 'incremental' or 'full_refresh'")
        if namespace is None and (id_field is not None or delete_field is not None):
            raise ValueError("id_field and delete_field describe raw records: give namespace too")
        if namespace is not None and not is_namespace(namespace):
            raise ValueError("namespace must be 1-64 characters of letters, digits, '_', '-' or '.'")
        if not 1 <= batch_size <= SERVER_MAX_OPERATIONS:
            raise ValueError(f"batch_size must be from 1 to {SERVER_MAX_OPERATIONS}")
        if not 2 * ENVELOPE_RESERVE_BYTES <= max_body_bytes <= SERVER_MAX_BODY_BYTES:
            raise ValueError(f"max_body_bytes must be from {2 * ENVELOPE_RESERVE_BYTES} to {SERVER_MAX_BODY_BYTES}")
        mapping = RecordMapping(namespace=namespace, id_field=id_field or "id", delete_field=delete_field)
        return push_records(
            lambda body, key: self._post_sync(body, key, "part"),
            self._organization_of(vector_store_id),
            vector_store_id,
            records,
            mode,
            sync_timestamp or now_timestamp(),
            mapping,
            batch_size,
            max_body_bytes,
        )

    def sync_status(self, sync_id: str) -> Dict[str, Any]:
        """The stored result of a sync (``GET /v1/connectors/pipeline/syncs/{sync_id}``), with ``queryable``."""
        return self._read("GET", f"/v1/connectors/pipeline/syncs/{_segment(sync_id)}")

    def syncs(self, vector_store_id: Optional[str] = None, limit: int = 100) -> Iterator[Dict[str, Any]]:
        """The key's syncs, newest first, every page (``GET /v1/connectors/pipeline/syncs``)."""
        cursor: Optional[str] = None
        while True:
            query: Dict[str, Any] = {"limit": limit}
            if vector_store_id is not None:
                query["vector_store_id"] = vector_store_id
            if cursor:
                query["cursor"] = cursor
            page = self._read("GET", f"/v1/connectors/pipeline/syncs?{urlencode(query)}")
            yield from page["syncs"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def run(self, vector_store_id: str, sync_timestamp: str) -> Dict[str, Any]:
        """A full_refresh run (``GET /v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}``)."""
        return self._read("GET", f"/v1/connectors/pipeline/runs/{_segment(vector_store_id)}/{_segment(sync_timestamp)}")

    # -- stores, records, search ----------------------------------------------------------------

    def vector_store(self, vector_store_id: str) -> Dict[str, Any]:
        return self._read("GET", f"/v1/vector_stores/{_segment(vector_store_id)}")

    def namespaces(self, vector_store_id: str) -> List[Dict[str, Any]]:
        """``[{namespace, record_count, vector_count, last_synced_at}]``."""
        return self._read("GET", f"/v1/vector_stores/{_segment(vector_store_id)}/namespaces")["namespaces"]

    def record(self, vector_store_id: str, namespace: str, record_id: str) -> Dict[str, Any]:
        path = f"/v1/vector_stores/{_segment(vector_store_id)}/records/{_segment(namespace)}/{_segment(record_id)}"
        return self._read("GET", path)

    def record_ids(self, vector_store_id: str, namespace: str) -> Iterator[str]:
        """Every live record id of a namespace, in id order (pages of 1000)."""
        cursor: Optional[str] = None
        base = f"/v1/vector_stores/{_segment(vector_store_id)}/records/{_segment(namespace)}"
        while True:
            query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = self._read("GET", f"{base}?{urlencode(query)}")
            for r in page["records"]:
                yield r["id"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def search(
        self,
        vector_store_id: str,
        query: Optional[str] = None,
        vector: Optional[Sequence[float]] = None,
        namespace: Union[str, Sequence[str], None] = None,
        top_k: Optional[int] = None,
        filter: Optional[Mapping[str, Any]] = None,
    ) -> List[Dict[str, Any]]:
        """Semantic search of one store (``POST /v1/vector_stores/{id}/search``): a ``query`` text
        or a ``vector``; results best first, ``[{record_id, namespace, score, chunk, text, metadata}]``."""
        if (query is None) == (vector is None):
            raise ValueError("give exactly one of query or vector")
        body: Dict[str, Any] = {"query": query} if query is not None else {"vector": list(vector or [])}
        if namespace is not None:
            body["namespace"] = namespace if isinstance(namespace, str) else list(namespace)
        if top_k is not None:
            body["top_k"] = top_k
        if filter is not None:
            body["filter"] = dict(filter)
        return self._read("POST", f"/v1/vector_stores/{_segment(vector_store_id)}/search", body)["results"]
