export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Upstream calls (Workers AI, Vectorize) fail transiently: retry with exponential backoff and jitter. */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    try {
      return await call();
    } catch (err) {
      lastError = err;
      if (attempt + 1 < policy.attempts) {
        const delay = policy.baseDelayMs * 2 ** attempt;
        await policy.sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }
  throw lastError;
}

/** Runs `fn` over `items` in slices of `size`, at most `concurrency` slices at a time, in order. */
export async function inSlices<T, R>(
  items: T[],
  size: number,
  concurrency: number,
  fn: (slice: T[], sliceIndex: number) => Promise<R>,
): Promise<R[]> {
  const slices: T[][] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  const results: R[] = new Array(slices.length);
  let next = 0;
  const worker = async () => {
    while (next < slices.length) {
      const index = next++;
      results[index] = await fn(slices[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, slices.length) }, worker));
  return results;
}
