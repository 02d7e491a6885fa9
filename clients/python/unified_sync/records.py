"""One record (a dict) to one sync operation, as the UTF-8 JSON that goes into a request body.

The rules are the push CLI's (``cli/records.ts``), so a record given here and the same record as a
compact JSON line given to ``unified-sync push`` become the same bytes:

- with a ``namespace`` (raw records), the whole dict is the operation's ``data``; its id is the
  ``id_field`` value, a non-empty string or an integer (its decimal text); a truthy
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
from typing import Any, Dict, Optional, Union

#: The server's limit of one record: data, file, metadata and text together (256 KiB).
MAX_RECORD_BYTES = 256 * 1024
#: A namespace: 1-64 of letters, digits, '_', '-', '.'; not '.' or '..'.
NAMESPACE_PATTERN = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.-]{1,64}", re.ASCII)


def is_namespace(value: Any) -> bool:
    return isinstance(value, str) and NAMESPACE_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class Mapping:
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


@dataclass(frozen=True)
class Skipped:
    """A record never sent: ``code`` is MISSING_ID, INVALID_RECORD, INVALID_JSON or RECORD_TOO_LARGE."""

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


def record_id(value: Any) -> Optional[str]:
    """A record's id: a non-empty string, or an integer as its decimal text (never a bool or a float)."""
    if isinstance(value, str) and value != "":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


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


def to_operation(index: int, record: Any, mapping: Mapping) -> Union[Operation, Skipped]:
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
    op_id = record_id(_own(record, mapping.id_field))
    if op_id is None:
        message = f"field '{mapping.id_field}' is missing or not a non-empty string or an integer"
        return Skipped(index, "MISSING_ID", message, namespace, None)
    key = f'"id":{json.dumps(op_id, ensure_ascii=False)},"namespace":{json.dumps(namespace)}'
    try:
        key_bytes = key.encode("utf-8")
    except UnicodeEncodeError:
        return Skipped(index, "MISSING_ID", "the id is not well-formed Unicode", namespace, None)
    if mapping.delete_field is not None and is_delete_mark(_own(record, mapping.delete_field)):
        return Operation(b'{"action":"delete",' + key_bytes + b"}", namespace, op_id)
    try:
        data = compact(record)
    except (TypeError, ValueError, RecursionError) as err:
        return Skipped(index, "INVALID_JSON", f"not JSON: {err}"[:300], namespace, op_id)
    if len(data) > MAX_RECORD_BYTES:
        return Skipped(index, "RECORD_TOO_LARGE", f"record is {len(data)} bytes (data); the limit is {MAX_RECORD_BYTES}", namespace, op_id)
    return Operation(b'{"action":"upsert",' + key_bytes + b',"data":' + data + b"}", namespace, op_id)
