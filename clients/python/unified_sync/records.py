"""One record (a dict) to one sync operation, as the UTF-8 JSON that goes into a request body.

The rules are the push CLI's (``cli/records.ts``), so a record given here and the same record as a
compact JSON line given to ``unified-sync push`` become the same bytes:

- with a ``namespace`` (raw records), the whole dict is the operation's ``data``; its id is the
  ``id_field`` value, a non-empty string or an integer of at most 2^53 - 1 in magnitude (its
  decimal text; the integer N and the string "N" in one push are refused, never merged); a truthy
  ``delete_field`` value makes it a delete;
- without one, each dict is an operation as the sync request takes it
  (``{"action": "upsert", "id": ..., "namespace": ..., "data": {...}}``), sent as given.

Only a record's own keys are read (``key in record``, then ``record[key]``): never attributes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union

#: The largest integer id (a JSON number holds integers exactly up to here).
MAX_SAFE_INTEGER = 2**53 - 1
#: The server's limit of one record: data, file, metadata and text together (256 KiB).
MAX_RECORD_BYTES = 256 * 1024
#: A namespace: 1-64 of letters, digits, '_', '-', '.'; not '.' or '..'.
NAMESPACE_PATTERN = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.-]{1,64}", re.ASCII)


def is_namespace(value: Any) -> bool:
    return isinstance(value, str) and NAMESPACE_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class RecordMapping:
    """Raw records: the namespace every record goes to, the field holding its id, and the field
    whose truthy value makes the record a delete. No namespace: records are operations."""

    namespace: Optional[str] = None
    id_field: str = "id"
    delete_field: Optional[str] = None


@dataclass(frozen=True)
class Operation:
    json: bytes
    namespace: Optional[str]
    id: Optional[str]
    #: A raw record's id kind ("string" or "number"), for the id collision check.
    source: Optional[str] = None


@dataclass(frozen=True)
class Skipped:
    """A record never sent: ``code`` is MISSING_ID, INVALID_ID, ID_COLLISION, ID_UNCHECKED,
    INVALID_RECORD, INVALID_JSON, RECORD_TOO_LARGE or OPERATION_TOO_LARGE."""

    index: int
    code: str
    message: str
    namespace: Optional[str]
    id: Optional[str]


def compact(value: Any) -> bytes:
    """``JSON.stringify`` of a JSON value as UTF-8. Raises ValueError for what JSON cannot carry
    (NaN, infinities, lone surrogates) and TypeError for what is not JSON at all."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def is_delete_mark(value: Any) -> bool:
    """Truthy as the CLI's --delete-field reads it (JavaScript truthiness, and strings other than
    "", "0" and "false")."""
    if isinstance(value, str):
        return value != "" and value != "0" and value.lower() != "false"
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    return True  # objects and arrays, even empty ones, are truthy in JavaScript


def record_id(record: Dict[str, Any], field: str) -> Union[Tuple[str, str], Tuple[None, str]]:
    """A raw record's id and its kind: ``(id, "string")`` for a non-empty string, ``(decimal text,
    "number")`` for an integer of at most 2^53 - 1 in magnitude (what a JSON number can hold
    exactly); else ``(None, why)``. A bool or a float is refused: 1.0 and 1 would merge."""
    if field not in record:
        return None, f"field '{field}' is missing"
    value = record[field]
    if isinstance(value, str):
        return (value, "string") if value != "" else (None, f"field '{field}' is an empty string")
    if isinstance(value, bool):
        return None, f"field '{field}' is a boolean: ids are strings or integers"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            return None, f"field '{field}' is {value}, beyond 2^53 - 1: give it as a string"
        return str(value), "number"
    if isinstance(value, float):
        return None, f"field '{field}' is the number {value!r}: an id is a string or an integer"
    return None, f"field '{field}' is {type(value).__name__}: ids are strings or integers"


def _own(record: Dict[str, Any], key: str) -> Any:
    return record[key] if key in record else None


def record_bytes(op: Dict[str, Any]) -> int:
    """The server's measure of a record: the JSON of data, file and metadata, and the text."""
    total = 0
    for field in ("data", "file", "metadata"):
        value = _own(op, field)
        if value is not None:
            total += len(compact(value))
    text = _own(op, "text")
    if isinstance(text, str):
        total += len(text.encode("utf-8", "surrogatepass"))
    return total


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def to_operation(index: int, record: Any, mapping: RecordMapping) -> Union[Operation, Skipped]:
    if not isinstance(record, dict):
        namespace = mapping.namespace
        return Skipped(index, "INVALID_RECORD", f"a record must be a dict, not {type(record).__name__}", namespace, None)

    if mapping.namespace is None:
        # An operation as the sync request takes it.
        namespace = _str(_own(record, "namespace"))
        op_id = _str(_own(record, "id"))
        try:
            text = compact(record)
            too_large = _own(record, "action") == "upsert" and record_bytes(record) > MAX_RECORD_BYTES
        except (TypeError, ValueError, RecursionError) as err:
            return Skipped(index, "INVALID_JSON", f"not JSON: {err}"[:300], namespace, op_id)
        if too_large:
            return Skipped(index, "RECORD_TOO_LARGE", f"record over {MAX_RECORD_BYTES} bytes (data, file, metadata and text)", namespace, op_id)
        return Operation(text, namespace, op_id)

    # A raw record: the whole dict is the data.
    namespace = mapping.namespace
    op_id, kind = record_id(record, mapping.id_field)
    if op_id is None:
        code = "MISSING_ID" if mapping.id_field not in record else "INVALID_ID"
        return Skipped(index, code, kind, namespace, None)
    key = f'"id":{json.dumps(op_id, ensure_ascii=False)},"namespace":{json.dumps(namespace)}'
    try:
        key_bytes = key.encode("utf-8")
    except UnicodeEncodeError:
        return Skipped(index, "INVALID_ID", "the id is not well-formed Unicode", namespace, None)
    if mapping.delete_field is not None and is_delete_mark(_own(record, mapping.delete_field)):
        return Operation(b'{"action":"delete",' + key_bytes + b"}", namespace, op_id, kind)
    try:
        data = compact(record)
    except (TypeError, ValueError, RecursionError) as err:
        return Skipped(index, "INVALID_JSON", f"not JSON: {err}"[:300], namespace, op_id)
    if len(data) > MAX_RECORD_BYTES:
        return Skipped(index, "RECORD_TOO_LARGE", f"record is {len(data)} bytes (data); the limit is {MAX_RECORD_BYTES}", namespace, op_id)
    return Operation(b'{"action":"upsert",' + key_bytes + b',"data":' + data + b"}", namespace, op_id, kind)
