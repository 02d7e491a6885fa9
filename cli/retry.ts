/**
 * Sending one part with retries, through the typed client (createSyncClient).
 *
 * Retried: 429 and 503 (honouring Retry-After), 409 IDEMPOTENCY_KEY_IN_PROGRESS (our own earlier
 * attempt of this part is still running on the server: waiting is the fix), 502 and 504 (a
 * gateway in front of the Worker), network errors and timeouts. Never retried: every other
 * answer (a 4xx that retrying cannot fix, a 500). Every attempt carries the part's
 * Idempotency-Key, so an attempt whose answer was lost is replayed, not applied again.
 * A refused connection (nothing listens at the URL) is tried REFUSED_DELAYS_MS.length + 1 times
 * over a second and a half, not for the whole backoff: waiting rarely starts a server.
 */
import { errorCode, type SyncClient, type SyncResponse } from "../src/client/index";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff when the server gives no Retry-After; doubles each attempt. */
  baseMs: number;
  /** Cap of the exponential backoff. */
  maxBackoffMs: number;
  /** Longest Retry-After honoured as given (longer ones are cut to this). */
  maxRetryAfterMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 500, maxBackoffMs: 30_000, maxRetryAfterMs: 120_000, timeoutMs: 300_000 };

/** Retry-After as milliseconds (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** Exponential backoff with jitter (between half and all of base * 2^(attempt-1), capped). */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Waits between attempts while the connection is refused; then the part fails. */
export const REFUSED_DELAYS_MS = [500, 1000];

/** The fetch failure is a refused TCP connection (undici puts the socket's error in `cause`). */
export function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } } | null)?.cause;
  return cause?.code === "ECONNREFUSED" || (cause?.errors ?? []).some((e) => e?.code === "ECONNREFUSED");
}

/** The URL's port is one the fetch standard blocks (undici: "bad port"). */
export function isBadPort(err: unknown): boolean {
  return (err as { cause?: { message?: string } } | null)?.cause?.message === "bad port";
}

export function isRetryable(status: number, code: string | null): boolean {
  return status === 429 || status === 503 || status === 502 || status === 504 || (status === 409 && code === "IDEMPOTENCY_KEY_IN_PROGRESS");
}

/** Why a part could not be sent: the run fails (exit 1). */
export class PartFailed extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
    readonly traceId: string | null,
    readonly details: unknown = null,
    /** No attempt reached the server (every connection refused): nothing can have been applied. */
    readonly neverReached = false,
  ) {
    super(message);
  }

  /** A 4xx that no retry or re-run of the same command fixes (bad key, access, body, conflict). */
  get permanent(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500;
  }
}

export interface Attempt {
  part: number;
  attempt: number;
  /** What went wrong: "503 UPSTREAM_UNAVAILABLE", "network error: ...". */
  reason: string;
  delayMs: number;
  /** Attempts this part gets in all for this reason, when fewer than the policy's. */
  of?: number;
}

export interface Sent {
  response: SyncResponse;
  replayed: boolean;
  attempts: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** POST /v1/connectors/pipeline/sync with the body as given (already JSON text). */
export async function sendPart(
  client: SyncClient,
  part: number,
  body: string,
  key: string,
  policy: RetryPolicy,
  options: { signal?: AbortSignal; onRetry?: (a: Attempt) => void; url?: string } = {},
): Promise<Sent> {
  let refused = 0;
  let reached = false;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    let retryAfter: number | null = null;
    try {
      const signals = [AbortSignal.timeout(policy.timeoutMs), ...(options.signal ? [options.signal] : [])];
      const { data, error, response } = await client.POST("/v1/connectors/pipeline/sync", {
        // The body is sent as built (exact bytes, counted against the body limit), not re-serialised.
        body: body as never,
        bodySerializer: (b: unknown) => b,
        params: { header: { "Idempotency-Key": key } },
        signal: AbortSignal.any(signals),
      });
      reached = true;
      if (data !== undefined && response.status === 200) {
        return { response: data, replayed: response.headers.get("Idempotent-Replayed") === "true", attempts: attempt };
      }
      const code = errorCode(error);
      const envelope = (error as { error?: { message?: string; trace_id?: string; details?: unknown } } | undefined)?.error;
      if (!isRetryable(response.status, code)) {
        throw new PartFailed(
          `${response.status} ${code ?? "(no error code)"}: ${envelope?.message ?? response.statusText}`,
          response.status,
          code,
          envelope?.trace_id ?? response.headers.get("X-Request-Id"),
          envelope?.details ?? null,
        );
      }
      reason = `${response.status} ${code ?? response.statusText}`;
      retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    } catch (err) {
      if (err instanceof PartFailed) throw err;
      if (options.signal?.aborted) throw options.signal.reason;
      if (isConnectionRefused(err)) {
        refused++;
        if (refused > REFUSED_DELAYS_MS.length || attempt >= policy.attempts) {
          const where = options.url ?? "the service URL";
          throw new PartFailed(
            `nothing answers at ${where}: is \`npm run dev\` running?`,
            null,
            "CONNECTION_REFUSED",
            null,
            null,
            !reached,
          );
        }
        const delayMs = REFUSED_DELAYS_MS[refused - 1]!;
        options.onRetry?.({
          part,
          attempt,
          reason: "connection refused",
          delayMs,
          of: Math.min(policy.attempts, attempt - refused + REFUSED_DELAYS_MS.length + 1),
        });
        await sleep(delayMs, options.signal);
        continue;
      }
      if (isBadPort(err)) {
        // The fetch standard's blocked ports (1, 22, 25, 6000, ...): no retry can ever connect.
        const where = options.url ?? "the service URL";
        throw new PartFailed(
          `${where}: fetch never connects to this port ("bad port"): use another`,
          null,
          "BAD_PORT",
          null,
          null,
          !reached,
        );
      }
      reached = true;
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      reason =
        err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")
          ? `no answer within ${Math.round(policy.timeoutMs / 1000)} s`
          : `network error: ${cause}`;
    }
    if (attempt >= policy.attempts) {
      throw new PartFailed(`gave up after ${attempt} attempts; last: ${reason}`, null, "RETRIES_EXHAUSTED", null);
    }
    const delayMs = retryAfter !== null ? Math.min(retryAfter, policy.maxRetryAfterMs) : backoffMs(attempt, policy);
    options.onRetry?.({ part, attempt, reason, delayMs });
    await sleep(delayMs, options.signal);
  }
}
