/**
 * The push's summary: counts summed over the parts' answers, per namespace; the lines skipped
 * before sending; the first failed operations (with their input line numbers); the run's state;
 * and the exit code. Rendered as a table for people, or as one JSON object with --json.
 */
import type { SyncResponse } from "../src/client/index";
import { printable } from "./terminal-text";

export type Counts = { upserted: number; deleted: number; unchanged: number; failed: number; stale: number };
const COUNTS = ["upserted", "deleted", "unchanged", "failed", "stale"] as const;

export interface FailedLine {
  line: number | null;
  namespace: string | null;
  id: string | null;
  code: string;
  message: string;
  /** "server": an operation the server failed; "local": a line never sent. */
  source: "server" | "local";
}

/** At most this many failures are kept in memory and in --json; the counts stay exact. */
export const MAX_KEPT_FAILURES = 1000;

const zero = (): Counts => ({ upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 0 });

export class Summary {
  readonly started = Date.now();
  results = zero();
  byNamespace = new Map<string, Counts & { skipped: number }>();
  failures: FailedLine[] = [];
  failuresOmitted = 0;
  skipped = 0;
  parts = 0;
  replayedParts = 0;
  resumedParts = 0;
  recordsSent = 0;
  linesRead = 0;
  run: { sync_timestamp: string; state: string; swept: number; final_sent: boolean; note?: string } | null = null;
  /** Parts whose answer counts another number of operations processed than the part sent. */
  countMismatches: { part: number; sent: number; processed: number }[] = [];
  fatal: { message: string; status: number | null; code: string | null; trace_id: string | null; details?: unknown } | null = null;

  constructor(
    readonly mode: string,
    readonly store: string,
    readonly org: string,
    public syncTimestamp: string,
  ) {}

  private ns(name: string) {
    let counts = this.byNamespace.get(name);
    if (!counts) {
      counts = { ...zero(), skipped: 0 };
      this.byNamespace.set(name, counts);
    }
    return counts;
  }

  private keep(failure: FailedLine) {
    if (this.failures.length < MAX_KEPT_FAILURES) this.failures.push(failure);
    else this.failuresOmitted++;
  }

  /** A part's answer; `lines` maps the part's operation index to its input line. */
  addAnswer(response: SyncResponse, lines: readonly number[], how: "sent" | "replayed" | "resumed") {
    this.parts++;
    if (how === "replayed") this.replayedParts++;
    if (how === "resumed") this.resumedParts++;
    // A server older than the stale count answers without it.
    for (const k of COUNTS) this.results[k] += response.results[k] ?? 0;
    for (const [name, counts] of Object.entries(response.by_namespace)) {
      const mine = this.ns(name);
      for (const k of COUNTS) mine[k] += counts[k] ?? 0;
    }
    for (const e of response.errors) {
      this.keep({
        line: e.index === null ? null : (lines[e.index] ?? null),
        namespace: e.namespace,
        id: e.id,
        code: e.code,
        message: e.message,
        source: "server",
      });
    }
    this.failuresOmitted += response.errors_omitted ?? 0;
    if (response.sweep) {
      this.run = {
        ...(this.run ?? { sync_timestamp: this.syncTimestamp, final_sent: true }),
        state: response.run?.state ?? "completed",
        swept: (this.run?.swept ?? 0) + response.sweep.deleted,
        final_sent: true,
      };
    } else if (response.run) {
      this.run = {
        sync_timestamp: response.run.sync_timestamp,
        state: response.run.state,
        swept: this.run?.swept ?? 0,
        final_sent: this.run?.final_sent ?? false,
      };
    }
  }

  /**
   * The server's `processed` against what the part sent: an answer that accounts for fewer (or
   * more) operations than were sent may have dropped some, so the push cannot call itself done.
   */
  checkCount(part: number, sent: number, processed: number): boolean {
    if (processed === sent) return true;
    if (this.countMismatches.length < MAX_KEPT_FAILURES) this.countMismatches.push({ part, sent, processed });
    return false;
  }

  addSkipped(s: { line: number; code: string; message: string; namespace: string | null; id: string | null }) {
    this.skipped++;
    if (s.namespace !== null) this.ns(s.namespace).skipped++;
    this.keep({ ...s, source: "local" });
  }

  get exitCode(): 0 | 1 | 2 {
    if (this.fatal) return 1;
    if (this.results.failed > 0 || this.skipped > 0 || this.countMismatches.length > 0) return 2;
    if (this.mode === "full_refresh" && this.run?.state !== "completed") return 2;
    return 0;
  }

  get elapsedMs() {
    return Date.now() - this.started;
  }

  toJSON() {
    const code = this.exitCode;
    return {
      status: code === 0 ? "ok" : code === 2 ? "partial" : "failed",
      exit_code: code,
      mode: this.mode,
      organization_id: this.org,
      vector_store_id: this.store,
      sync_timestamp: this.syncTimestamp,
      lines: this.linesRead,
      records_sent: this.recordsSent,
      skipped: this.skipped,
      parts: this.parts,
      replayed_parts: this.replayedParts,
      resumed_parts: this.resumedParts,
      results: this.results,
      by_namespace: Object.fromEntries([...this.byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))),
      run: this.run,
      failures: this.failures,
      failures_omitted: this.failuresOmitted,
      count_mismatches: this.countMismatches,
      elapsed_ms: this.elapsedMs,
      ...(this.fatal ? { error: this.fatal } : {}),
    };
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");
/** "1 part", "3 parts", "12,000 records". */
export const count = (n: number, word: string) => `${fmt(n)} ${word}${n === 1 ? "" : "s"}`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")).join("\n");
}

export function renderSummary(s: Summary, showFailures: number): string {
  const out: string[] = [];
  const rows = [["namespace", "upserted", "deleted", "unchanged", "stale", "failed", "skipped"]];
  for (const [name, c] of [...s.byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
    rows.push([printable(name), fmt(c.upserted), fmt(c.deleted), fmt(c.unchanged), fmt(c.stale), fmt(c.failed), fmt(c.skipped)]);
  }
  const r = s.results;
  rows.push(["total", fmt(r.upserted), fmt(r.deleted), fmt(r.unchanged), fmt(r.stale), fmt(r.failed), fmt(s.skipped)]);
  out.push(table(rows));
  const seconds = s.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(s.recordsSent / seconds) : 0;
  const partsNote = [s.replayedParts ? `${s.replayedParts} replayed` : "", s.resumedParts ? `${s.resumedParts} skipped by --resume` : ""]
    .filter(Boolean)
    .join(", ");
  out.push("");
  out.push(
    `${s.mode} to ${s.store}: ${count(s.recordsSent, "record")} in ${count(s.parts, "part")}${partsNote ? ` (${partsNote})` : ""}, ` +
      `${seconds.toFixed(1)} s (${fmt(rate)} records/s), sync_timestamp ${s.syncTimestamp}`,
  );
  if (s.mode === "full_refresh") {
    const run = s.run;
    out.push(
      run
        ? `run: ${run.state}${run.final_sent ? `, swept ${fmt(run.swept)} records` : ", final request not sent: nothing swept"}${run.note ? ` (${run.note})` : ""}`
        : "run: not started",
    );
  }
  if (s.failures.length > 0) {
    out.push("");
    out.push(`first failed operations (${fmt(r.failed + s.skipped)} in all):`);
    for (const f of s.failures.slice(0, showFailures)) {
      const where = f.line === null ? "sweep" : `line ${f.line}`;
      const who = f.namespace !== null || f.id !== null ? ` ${printable(f.namespace ?? "?")}/${printable(f.id ?? "?")}` : "";
      out.push(`  ${where}${who}: ${printable(f.code)}${f.source === "local" ? " (not sent)" : ""}: ${printable(f.message)}`);
    }
    const more = s.failures.length - Math.min(showFailures, s.failures.length) + s.failuresOmitted;
    if (more > 0) out.push(`  ... and ${fmt(more)} more (--json lists up to ${MAX_KEPT_FAILURES})`);
  }
  if (s.countMismatches.length > 0) {
    out.push("");
    for (const m of s.countMismatches.slice(0, Math.max(showFailures, 1))) {
      out.push(`part ${m.part}: the server reports ${count(m.processed, "operation")} processed of ${fmt(m.sent)} sent`);
    }
  }
  if (s.fatal) {
    out.push("");
    out.push(`push failed: ${printable(s.fatal.message)}${s.fatal.trace_id ? ` (trace id ${printable(s.fatal.trace_id)})` : ""}`);
  }
  return out.join("\n");
}
