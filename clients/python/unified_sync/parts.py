"""Parts: operations gathered into sync requests, their bodies and Idempotency-Keys.

These mirror the push CLI (``cli/parts.ts``) byte for byte: the same operations cut into the same
parts give the same bodies and the same keys, so a push interrupted in Python and finished with
the CLI (or the other way round) replays what was applied instead of applying it twice.
"""

from __future__ import annotations

import hashlib
import json
from typing import List, Optional, Sequence

#: Bytes kept free in every body for the envelope and a final request's ``namespaces`` list.
ENVELOPE_RESERVE_BYTES = 80 * 1024
#: The server's limits: operations per request and body bytes (20 MiB).
SERVER_MAX_OPERATIONS = 5000
SERVER_MAX_BODY_BYTES = 20 * 1024 * 1024
#: A final request names at most this many namespaces.
MAX_FINAL_NAMESPACES = 1000


def js_string(value: str) -> str:
    """``JSON.stringify`` of a string: non-ASCII kept as is, control characters escaped."""
    return json.dumps(value, ensure_ascii=False)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def part_body(
    organization_id: str,
    vector_store_id: str,
    mode: str,
    sync_timestamp: str,
    ops: Sequence[bytes],
    final: Optional[bool] = None,
    namespaces: Sequence[str] = (),
) -> bytes:
    """The request body (UTF-8). ``final``: None for incremental syncs, False for a part of a
    full_refresh run, True for its final request, which carries the run's ``namespaces``."""
    head = (
        f'{{"organization_id":{js_string(organization_id)},"vector_store_id":{js_string(vector_store_id)},'
        f'"sync_mode":{js_string(mode)},"sync_timestamp":{js_string(sync_timestamp)}'
    )
    if final is not None:
        head += f',"final":{"true" if final else "false"}'
    if final is True and namespaces:
        head += ',"namespaces":[' + ",".join(js_string(n) for n in namespaces) + "]"
    return (head + ',"operations":[').encode("utf-8") + b",".join(ops) + b"]}"


def part_key(vector_store_id: str, sync_timestamp: str, part: int, body_hash: str) -> str:
    """The Idempotency-Key of part number ``part`` (from 1) whose body hashes to ``body_hash``:
    a re-run of the same push sends the same keys and the server replays its stored answers."""
    digest = sha256_hex(f"unified-sync push\n{vector_store_id}\n{sync_timestamp}\n{part}\n{body_hash}".encode("utf-8"))
    return f"usp-{part}-{digest[:48]}"


class PartBuilder:
    """At most ``max_operations`` operations and ``max_body_bytes`` of body, whichever comes first."""

    def __init__(self, max_operations: int, max_body_bytes: int) -> None:
        self.max_operations = max_operations
        self.max_body_bytes = max_body_bytes
        self.reset()

    def reset(self) -> None:
        self.ops: List[bytes] = []
        #: The input position (0-based) of each operation, for failures.
        self.indexes: List[int] = []
        self._bytes = 0

    @property
    def max_operation_bytes(self) -> int:
        """Largest operation a part can carry at all."""
        return self.max_body_bytes - ENVELOPE_RESERVE_BYTES

    def fits(self, op: bytes) -> bool:
        if len(self.ops) >= self.max_operations:
            return False
        comma = 1 if self.ops else 0
        return self._bytes + comma + len(op) <= self.max_operation_bytes

    def add(self, op: bytes, index: int) -> None:
        self._bytes += (1 if self.ops else 0) + len(op)
        self.ops.append(op)
        self.indexes.append(index)
