"""Raw records' ids that two different source values could share: the integer N and the string
"N" both become record id "N". A push that gives one record id both ways would merge two source
records into one, so the later record is refused (``ID_COLLISION``), as ``unified-sync push``
refuses the line.

Memory is bounded: an open-addressing table of 16 bytes a slot (the integer, and the signed
input index + 1 whose sign is the kind), grown by doubling up to ``MAX_SLOTS`` (32 MiB, at most
``MAX_IDS`` ids at half load). Past that, new ids are no longer kept; an id of the other kind
that is not in the table can then no longer be proven distinct, so it is refused
(``ID_UNCHECKED``). A push whose integer ids are all of one kind is never refused.
"""

from __future__ import annotations

import re
from array import array
from typing import Optional, Tuple

MIN_SLOTS = 1 << 12
MAX_SLOTS = 1 << 21
MAX_IDS = MAX_SLOTS // 2
MAX_SAFE_INTEGER = 2**53 - 1

_SHARED = re.compile(r"-?(0|[1-9][0-9]{0,15})", re.ASCII)


def shared_integer(record_id: str) -> Optional[int]:
    """The integer value of an id that a number and a string could share, or None."""
    if record_id == "-0" or _SHARED.fullmatch(record_id) is None:
        return None
    n = int(record_id)
    return n if abs(n) <= MAX_SAFE_INTEGER else None


class IdCollisions:
    def __init__(self) -> None:
        self._keys = array("q", bytes(8 * MIN_SLOTS))
        #: 0: empty; +(index + 1): given as an integer; -(index + 1): given as a string.
        self._marks = array("q", bytes(8 * MIN_SLOTS))
        self._count = 0
        self._dropped = {"number": False, "string": False}

    def _slot(self, value: int, keys: "array[int]", marks: "array[int]") -> int:
        mask = len(keys) - 1
        i = hash(value) & mask
        while marks[i] != 0 and keys[i] != value:
            i = (i + 1) & mask
        return i

    def _grow(self) -> None:
        keys, marks = self._keys, self._marks
        self._keys = array("q", bytes(16 * len(keys)))
        self._marks = array("q", bytes(16 * len(marks)))
        for j, mark in enumerate(marks):
            if mark != 0:
                i = self._slot(keys[j], self._keys, self._marks)
                self._keys[i] = keys[j]
                self._marks[i] = mark

    def check(self, record_id: str, source: str, index: int) -> Optional[Tuple[str, Optional[int], Optional[str]]]:
        """None when the id is fine; else (code, the other record's index, its kind)."""
        value = shared_integer(record_id)
        if value is None:
            return None
        i = self._slot(value, self._keys, self._marks)
        seen = self._marks[i]
        if seen != 0:
            seen_source = "number" if seen > 0 else "string"
            return None if seen_source == source else ("ID_COLLISION", abs(seen) - 1, seen_source)
        if self._dropped["string" if source == "number" else "number"]:
            return ("ID_UNCHECKED", None, None)
        if self._count >= MAX_IDS:
            self._dropped[source] = True
            return None
        self._keys[i] = value
        self._marks[i] = index + 1 if source == "number" else -(index + 1)
        self._count += 1
        if self._count * 2 > len(self._keys) and len(self._keys) < MAX_SLOTS:
            self._grow()
        return None


def describe(record_id: str, source: str) -> str:
    return f"the integer {record_id}" if source == "number" else f'the string "{record_id}"'
