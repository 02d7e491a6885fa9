"""``Client.push``: any iterable of records into sync requests, one part held at a time.

An incremental push sends parts as they fill. A full_refresh push is one run: parts with
``"final": false`` and the last with ``"final": true`` and the run's namespaces, then the final
again (no operations) while its sweep reports ``remaining > 0``. Parts, bodies and
Idempotency-Keys are the push CLI's, so pushing the same records again with the same
``sync_timestamp`` (after a failure, or from the CLI) replays what was applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .errors import UnifiedSyncError
from .id_collisions import IdCollisions, describe
from .parts import MAX_FINAL_NAMESPACES, PartBuilder, part_body, part_key, sha256_hex
from .records import RecordMapping, Skipped, is_namespace, to_operation

log = logging.getLogger("unified_sync")

#: A final request whose sweep makes no progress this many times in a row ends the push (run left open).
STALLED_SWEEP_ROUNDS = 3
#: At most this many failures are kept; the counts stay exact.
MAX_KEPT_FAILURES = 1000

#: A server older than the `stale` count answers without it (read as 0).
COUNTS = ("upserted", "deleted", "unchanged", "failed", "stale")


def _zero() -> Dict[str, int]:
    return {k: 0 for k in COUNTS}


@dataclass
class PushResult:
    """What a push did. ``by_namespace``: the summed counts per namespace (plus ``skipped``, records
    never sent); ``results``: the totals; ``failures``: the first failed or skipped records, each
    with its ``index`` in the input (0-based; None for a record the sweep could not remove);
    ``run``: for a full_refresh, ``{sync_timestamp, state, swept, final_sent, note?}``."""

    mode: str
    vector_store_id: str
    sync_timestamp: str
    parts: int = 0
    replayed_parts: int = 0
    records_sent: int = 0
    skipped: int = 0
    results: Dict[str, int] = field(default_factory=_zero)
    by_namespace: Dict[str, Dict[str, int]] = field(default_factory=dict)
    failures: List[Dict[str, Any]] = field(default_factory=list)
    failures_omitted: int = 0
    run: Optional[Dict[str, Any]] = None
    #: Parts whose answer's ``processed`` was not the number of operations sent.
    count_mismatches: List[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every record applied (and, for a full_refresh, the run completed)."""
        if self.results["failed"] > 0 or self.skipped > 0 or self.count_mismatches:
            return False
        return self.mode != "full_refresh" or (self.run is not None and self.run.get("state") == "completed")

    def _ns(self, name: str) -> Dict[str, int]:
        if name not in self.by_namespace:
            self.by_namespace[name] = {**_zero(), "skipped": 0}
        return self.by_namespace[name]

    def _keep(self, failure: Dict[str, Any]) -> None:
        if len(self.failures) < MAX_KEPT_FAILURES:
            self.failures.append(failure)
        else:
            self.failures_omitted += 1

    def add_skipped(self, s: Skipped) -> None:
        self.skipped += 1
        if s.namespace is not None:
            self._ns(s.namespace)["skipped"] += 1
        self._keep({"index": s.index, "namespace": s.namespace, "id": s.id, "code": s.code, "message": s.message, "source": "local"})

    def add_answer(self, answer: Dict[str, Any], indexes: List[int], replayed: bool) -> None:
        self.parts += 1
        if replayed:
            self.replayed_parts += 1
        for k in COUNTS:
            self.results[k] += int(answer["results"].get(k, 0))
        for name, counts in answer.get("by_namespace", {}).items():
            mine = self._ns(name)
            for k in COUNTS:
                mine[k] += int(counts.get(k, 0))
        for e in answer.get("errors", []):
            i = e.get("index")
            self._keep(
                {
                    "index": indexes[i] if isinstance(i, int) and 0 <= i < len(indexes) else None,
                    "namespace": e.get("namespace"),
                    "id": e.get("id"),
                    "code": e.get("code"),
                    "message": e.get("message"),
                    "source": "server",
                }
            )
        self.failures_omitted += int(answer.get("errors_omitted") or 0)
        run, sweep = answer.get("run"), answer.get("sweep")
        prior = self.run or {"sync_timestamp": self.sync_timestamp, "swept": 0, "final_sent": False}
        if sweep:
            self.run = {**prior, "state": (run or {}).get("state", "completed"), "swept": prior["swept"] + int(sweep.get("deleted", 0)), "final_sent": True}
        elif run:
            self.run = {**prior, "sync_timestamp": run["sync_timestamp"], "state": run["state"]}


Send = Callable[[bytes, str], Tuple[Dict[str, Any], bool]]


def push_records(
    send: Send,
    organization_id: str,
    vector_store_id: str,
    records: Iterable[Any],
    mode: str,
    sync_timestamp: str,
    mapping: RecordMapping,
    max_operations: int,
    max_body_bytes: int,
) -> PushResult:
    """``send(body, key) -> (answer, replayed)`` posts one part (with retries) or raises."""
    result = PushResult(mode=mode, vector_store_id=vector_store_id, sync_timestamp=sync_timestamp)
    full_refresh = mode == "full_refresh"
    builder = PartBuilder(max_operations, max_body_bytes)
    # Every valid namespace the run names (a raw-record push always names its own, so an empty
    # input empties it): the final request's `namespaces`, in first-seen order.
    run_namespaces: Dict[str, None] = {mapping.namespace: None} if mapping.namespace is not None else {}
    part = 0
    last: Optional[Dict[str, Any]] = None
    ids = IdCollisions()

    def send_part(final: Optional[bool]) -> None:
        nonlocal part, last
        part += 1
        names = list(run_namespaces)[:MAX_FINAL_NAMESPACES] if final else []
        body = part_body(organization_id, vector_store_id, mode, sync_timestamp, builder.ops, final, names)
        key = part_key(vector_store_id, sync_timestamp, part, sha256_hex(body))
        try:
            answer, replayed = send(body, key)
        except UnifiedSyncError as err:
            err.message = f"part {part}: {err.message}"
            err.args = (err.message,)
            err.push_result = result
            raise
        result.records_sent += len(builder.ops)
        result.add_answer(answer, builder.indexes, replayed)
        if answer.get("processed") != len(builder.ops):
            # The server counted other operations than this part sent: something on the way
            # changed the body; nothing of the run may be swept on that basis.
            result.count_mismatches.append(part)
        sweep = answer.get("sweep") or {}
        log.info(
            "part %d%s: %d operations: %s%s%s",
            part,
            " (final)" if final else "",
            len(builder.ops),
            ", ".join(f"{k} {answer['results'].get(k, 0)}" for k in COUNTS),
            f"; swept {sweep.get('deleted')}, {sweep.get('remaining')} left" if sweep else "",
            " (replayed)" if replayed else "",
        )
        builder.reset()
        last = answer

    for index, record in enumerate(records):
        op = to_operation(index, record, mapping)
        if isinstance(op, Skipped):
            result.add_skipped(op)
            continue
        if op.source is not None and op.id is not None:
            clash = ids.check(op.id, op.source, index)
            if clash is not None:
                code, other, other_source = clash
                if code == "ID_COLLISION":
                    message = (
                        f"{describe(op.id, op.source)} and {describe(op.id, other_source or '')} of record {other} "
                        f"would both be record {op.id!r}: not sent (make the ids distinct, or of one kind)"
                    )
                else:
                    message = f"too many integer ids given both as integers and as strings: {describe(op.id, op.source)} cannot be checked"
                result.add_skipped(Skipped(index, code, message, op.namespace, op.id))
                continue
        if len(op.json) > builder.max_operation_bytes:
            message = f"the operation is {len(op.json)} bytes; a part holds at most {builder.max_operation_bytes}"
            result.add_skipped(Skipped(index, "OPERATION_TOO_LARGE", message, op.namespace, op.id))
            continue
        if not builder.fits(op.json):
            send_part(False if full_refresh else None)
        builder.add(op.json, index)
        if op.namespace is not None and is_namespace(op.namespace):
            run_namespaces[op.namespace] = None

    if not full_refresh:
        if builder.ops:
            send_part(None)
    elif result.skipped > 0 or result.count_mismatches:
        # A record that was not sent (or not counted) may be one the store holds: a sweep would
        # delete it. As the server does for a failed operation, sweep nothing: the run stays open.
        if builder.ops:
            send_part(False)
        note = (
            f"{result.skipped} records could not be sent; fix them and push again"
            if result.skipped > 0
            else "an answer counted other than the operations its part sent; push again"
        )
        result.run = {
            "sync_timestamp": sync_timestamp,
            "state": (result.run or {}).get("state", "open"),
            "swept": 0,
            "final_sent": False,
            "note": note,
        }
    else:
        send_part(True)
        remaining = _remaining(last)
        stalled = 0
        while remaining > 0:
            send_part(True)
            now = _remaining(last)
            stalled = stalled + 1 if now >= remaining else 0
            remaining = now
            if stalled >= STALLED_SWEEP_ROUNDS and remaining > 0:
                assert result.run is not None
                result.run["note"] = f"the sweep made no progress {STALLED_SWEEP_ROUNDS} times; {remaining} records left: push again later"
                break
    return result


def _remaining(answer: Optional[Dict[str, Any]]) -> int:
    sweep = (answer or {}).get("sweep") or {}
    return int(sweep.get("remaining") or 0)
