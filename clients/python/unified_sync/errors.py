"""The one exception the client raises for anything the service refused or could not answer."""

from __future__ import annotations

from typing import Any, Optional


class UnifiedSyncError(Exception):
    """A refused request (the service's error envelope) or a request that never got an answer.

    ``status``: the HTTP status, or None when no answer came (network errors, timeouts, retries
    exhausted). ``code``: the envelope's ``error.code`` (``INVALID_API_KEY``, ``STALE_SYNC``, ...),
    or a client-side code (``NETWORK_ERROR``, ``RETRIES_EXHAUSTED``). ``trace_id``: the envelope's
    ``trace_id`` (equal to the answer's ``X-Request-Id``), to quote when reporting a problem.
    ``details``: the envelope's ``details`` (``{"fields": {...}}`` for a validation error).
    After a failed :meth:`Client.push`, ``push_result`` holds what was applied before the failure.
    """

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        code: Optional[str] = None,
        trace_id: Optional[str] = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.trace_id = trace_id
        self.details = details
        self.push_result: Any = None

    def __str__(self) -> str:
        parts = [str(self.status) if self.status is not None else None, self.code, self.message]
        text = " ".join(p for p in parts if p)
        return f"{text} (trace id {self.trace_id})" if self.trace_id else text
