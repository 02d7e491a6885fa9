/**
 * Timing spans for the benchmark's phase profile (`BENCH_PROFILE=1 npm run bench`). Off unless
 * the benchmark's own entry switches it on: then each span adds its wall time to a per-isolate
 * total by phase. When off a span is one boolean test, so production code can carry them.
 */
let enabled = false;
const totals = new Map<string, { ms: number; calls: number }>();

export function setProfiling(on: boolean): void {
  enabled = on;
}

function add(phase: string, started: number): void {
  const entry = totals.get(phase) ?? { ms: 0, calls: 0 };
  entry.ms += performance.now() - started;
  entry.calls += 1;
  totals.set(phase, entry);
}

/** Runs `work`, adding its time (until its promise settles, if it returns one) to `phase`. */
export function span<T>(phase: string, work: () => T): T {
  if (!enabled) return work();
  const started = performance.now();
  const result = work();
  if (result instanceof Promise) {
    return result.finally(() => add(phase, started)) as T;
  }
  add(phase, started);
  return result;
}

/** Totals since the last reset, by phase, in first-seen order. */
export function profileSnapshot(): Record<string, { ms: number; calls: number }> {
  return Object.fromEntries([...totals].map(([phase, t]) => [phase, { ms: Math.round(t.ms * 10) / 10, calls: t.calls }]));
}

export function profileReset(): void {
  totals.clear();
}
