"""HTTP with the push CLI's retry policy, over urllib (standard library only).

Retried: 429 and 503 (honouring ``Retry-After``), 502 and 504 (a gateway in front of the Worker),
409 ``IDEMPOTENCY_KEY_IN_PROGRESS`` (an earlier attempt with the same key is still running), and,
when the request is safe to send again, network errors and timeouts. Never retried: any other
answer (a 4xx that retrying cannot fix, a 500).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from .errors import UnifiedSyncError

log = logging.getLogger("unified_sync")


@dataclass(frozen=True)
class RetryPolicy:
    """The push CLI's defaults (``--retries``, ``--max-backoff``, ``--timeout``)."""

    #: Attempts in all, the first included.
    attempts: int = 8
    #: First backoff when the server gives no Retry-After; doubles each attempt.
    base_seconds: float = 0.5
    #: Cap of the exponential backoff.
    max_backoff_seconds: float = 30.0
    #: Longest Retry-After honoured as given (longer ones are cut to this).
    max_retry_after_seconds: float = 120.0


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text, re.ASCII):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(attempt-1), capped."""
    ceiling = min(policy.max_backoff_seconds, policy.base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def is_retryable(status: int, code: Optional[str]) -> bool:
    return status in (429, 502, 503, 504) or (status == 409 and code == "IDEMPOTENCY_KEY_IN_PROGRESS")


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", "replace")


def _envelope(body: Any) -> Dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return {}


def error_from(answer: Answer, reason: str = "") -> UnifiedSyncError:
    env = _envelope(answer.body)
    code = env.get("code") if isinstance(env.get("code"), str) else None
    message = env.get("message") if isinstance(env.get("message"), str) else None
    if message is None:
        message = answer.body[:300] if isinstance(answer.body, str) and answer.body else reason or f"HTTP {answer.status}"
    trace = env.get("trace_id") if isinstance(env.get("trace_id"), str) else answer.headers.get("X-Request-Id")
    return UnifiedSyncError(message, status=answer.status, code=code, trace_id=trace, details=env.get("details"))


class Transport:
    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float, policy: RetryPolicy) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.timeout = timeout
        self.policy = policy

    def once(self, method: str, path: str, body: Optional[bytes], headers: Mapping[str, str]) -> Answer:
        """One attempt. Raises OSError-family exceptions (and http.client's) for network failures."""
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        for name, value in {**self.headers, **headers}.items():
            request.add_header(name, value)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.headers, _decode(response.read()))
        except urllib.error.HTTPError as err:
            with err:
                return Answer(err.code, err.headers, _decode(err.read()))

    def request(
        self,
        method: str,
        path: str,
        body: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        retry_network: bool = True,
        label: str = "",
    ) -> Answer:
        """The answer of a 2xx; raises UnifiedSyncError for anything else, after retries.

        ``retry_network``: whether a request whose answer was lost may be sent again (true for
        reads and for writes carrying an Idempotency-Key).
        """
        what = label or f"{method} {path}"
        for attempt in range(1, self.policy.attempts + 1):
            wait: Optional[float] = None
            try:
                answer = self.once(method, path, body, headers or {})
            except (OSError, http.client.HTTPException, socket.timeout) as err:
                reason = f"network error: {getattr(err, 'reason', None) or err}"
                if not retry_network:
                    raise UnifiedSyncError(f"{what}: {reason}", code="NETWORK_ERROR") from err
            else:
                if 200 <= answer.status < 300:
                    return answer
                error = error_from(answer)
                if not is_retryable(answer.status, error.code):
                    raise error
                reason = f"{answer.status} {error.code or ''}".strip()
                wait = parse_retry_after(answer.headers.get("Retry-After"))
            if attempt >= self.policy.attempts:
                raise UnifiedSyncError(f"{what}: gave up after {attempt} attempts; last: {reason}", code="RETRIES_EXHAUSTED")
            delay = min(wait, self.policy.max_retry_after_seconds) if wait is not None else backoff_seconds(attempt, self.policy)
            log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", what, reason, delay, attempt + 1, self.policy.attempts)
            time.sleep(delay)
        raise AssertionError("unreachable")
