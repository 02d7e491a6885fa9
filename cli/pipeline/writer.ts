/**
 * The write side shared by the Airbyte destination and the Singer target: operations go into one
 * buffer for incremental syncs and one buffer per full_refresh run; a full buffer is sent as a part
 * (PartBuilder, partBody, partKey and sendPart, as in `push`), and `committedThrough` says up to
 * which record everything has been committed, which is what a checkpoint may be emitted after.
 *
 * A request has one sync_mode, so each mode (and each run: a run is one sync_timestamp) has its own
 * buffer; flushing per buffer keeps an overwrite stream's parts in its run however its records
 * interleave with incremental streams'. Requests go one at a time, in order.
 *
 * Any failure (a refused request, retries exhausted, an operation the service did not apply) throws
 * PipelineFailure: the caller emits no later checkpoint and exits non-zero.
 */
import type { SyncClient, SyncResponse } from "../../src/client/index";
import { MAX_FINAL_NAMESPACES, PartBuilder, partBody, partKey, sha256Hex, type Envelope } from "../parts";
import type { Operation } from "../operation";
import { PartFailed, sendPart, type RetryPolicy } from "../retry";

/**
 * Operation bytes held in all buffers together: past this, every buffer is sent (a catalog of many
 * overwrite streams has a buffer each, and each could otherwise hold 20 MiB).
 */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;

/** A final whose sweep makes no progress this many times in a row fails the write. */
const STALLED_SWEEP_ROUNDS = 3;

export class PipelineFailure extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Distinct, increasing ISO timestamps: two runs must never share a sync_timestamp (that would make them one run). */
export class Clock {
  private last = 0;
  next(): string {
    this.last = Math.max(Date.now(), this.last + 1);
    return new Date(this.last).toISOString();
  }
}

export interface PipelineOp {
  /** The record's position in the input (1, 2, ...). */
  seq: number;
  action: "upsert" | "delete";
  namespace: string;
  id: string;
  /** The operation's JSON text. */
  json: string;
}

class OpBuffer {
  readonly builder: PartBuilder;
  /** seq of the oldest operation held, or null when empty. */
  firstSeq: number | null = null;
  /** Bytes of the operations held. */
  bytes = 0;
  constructor(maxOperations: number, maxBodyBytes: number) {
    this.builder = new PartBuilder(maxOperations, maxBodyBytes);
  }
}

export interface Run {
  label: string;
  syncTimestamp: string;
  /** Every namespace of the run: the final names them all, so a stream that sent nothing is emptied. */
  namespaces: Set<string>;
  buffer: OpBuffer;
  state: "open" | "completed";
}

export interface WriterOptions {
  client: SyncClient;
  organizationId: string;
  vectorStoreId: string;
  retry: RetryPolicy;
  maxOperations: number;
  maxBodyBytes: number;
  log: (level: "INFO" | "WARN", message: string) => void;
  clock?: Clock;
  /** The service's URL, named when nothing answers there. */
  url?: string;
}

export interface Totals {
  upserted: number;
  deleted: number;
  unchanged: number;
  /** Records older than the stored version: not applied, and not a failure (data never rolls back). */
  stale: number;
  failed: number;
  swept: number;
  requests: number;
}

export class Writer {
  readonly clock: Clock;
  /** The sync_timestamp of every incremental request of this write. */
  readonly syncTimestamp: string;
  readonly totals: Totals = { upserted: 0, deleted: 0, unchanged: 0, stale: 0, failed: 0, swept: 0, requests: 0 };
  private readonly incremental: OpBuffer;
  private readonly runs = new Set<Run>();
  private part = 0;
  private held = 0;

  constructor(private readonly o: WriterOptions) {
    this.clock = o.clock ?? new Clock();
    this.syncTimestamp = this.clock.next();
    this.incremental = new OpBuffer(o.maxOperations, o.maxBodyBytes);
  }

  get maxOperationBytes() {
    return this.incremental.builder.maxOperationBytes;
  }

  /** A new full_refresh run (its own sync_timestamp) over `namespaces`, or the open run of `syncTimestamp` continued. */
  openRun(label: string, namespaces: Iterable<string>, syncTimestamp?: string): Run {
    const run: Run = {
      label,
      syncTimestamp: syncTimestamp ?? this.clock.next(),
      namespaces: new Set(namespaces),
      buffer: new OpBuffer(this.o.maxOperations, this.o.maxBodyBytes),
      state: "open",
    };
    this.runs.add(run);
    return run;
  }

  /** Adds an operation to the incremental buffer (run null) or a run's; a full buffer is sent first. */
  async add(run: Run | null, op: PipelineOp): Promise<void> {
    const buffer = run ? run.buffer : this.incremental;
    const operation: Operation = {
      kind: "op",
      line: op.seq,
      json: op.json,
      bytes: Buffer.byteLength(op.json, "utf8"),
      action: op.action,
      namespace: op.namespace,
      id: op.id,
      value: null,
    };
    if (operation.bytes > buffer.builder.maxOperationBytes) {
      throw new PipelineFailure(
        `record #${op.seq} (${op.namespace}/${op.id}) is ${operation.bytes} bytes; a request holds at most ${buffer.builder.maxOperationBytes}`,
        false,
      );
    }
    if (!buffer.builder.fits(operation)) await this.send(buffer, run, false);
    buffer.builder.add(operation);
    buffer.firstSeq ??= op.seq;
    buffer.bytes += operation.bytes;
    this.held += operation.bytes;
    if (run) run.namespaces.add(op.namespace);
    if (this.held > MAX_HELD_BYTES) await this.flush();
  }

  /** Sends every buffer that holds operations (runs' as parts: nothing is swept). */
  async flush(): Promise<void> {
    if (this.incremental.builder.size > 0) await this.send(this.incremental, null, false);
    for (const run of this.runs) if (run.buffer.builder.size > 0) await this.send(run.buffer, run, false);
  }

  /** Records up to this seq are committed: every buffer's oldest operation is later. */
  committedThrough(received: number): number {
    let through = received;
    for (const buffer of [this.incremental, ...[...this.runs].map((r) => r.buffer)]) {
      if (buffer.firstSeq !== null) through = Math.min(through, buffer.firstSeq - 1);
    }
    return through;
  }

  /** The run's final request (its buffered operations and every namespace), again while the sweep has more left. */
  async finishRun(run: Run): Promise<void> {
    let answer = await this.send(run.buffer, run, true);
    let stalled = 0;
    for (let remaining = answer.sweep?.remaining ?? 0; remaining > 0; ) {
      answer = await this.send(run.buffer, run, true);
      const now = answer.sweep?.remaining ?? 0;
      stalled = now >= remaining ? stalled + 1 : 0;
      remaining = now;
      if (stalled >= STALLED_SWEEP_ROUNDS && remaining > 0) {
        throw new PipelineFailure(
          `run ${run.label}: the sweep made no progress ${STALLED_SWEEP_ROUNDS} times; ${remaining} records left`,
          true,
        );
      }
    }
    if (answer.run?.state !== "completed") {
      const skipped = answer.sweep?.skipped_namespaces ?? [];
      throw new PipelineFailure(
        `run ${run.label} did not complete${skipped.length ? `: namespaces not swept (a record failed there): ${skipped.join(", ")}` : ""}`,
        false,
      );
    }
    run.state = "completed";
    this.runs.delete(run);
  }

  /** Leaves a run open (its parts stay applied; nothing of it is swept). */
  dropRun(run: Run) {
    if (run.buffer.builder.size > 0) throw new Error(`run ${run.label}: flush() before dropRun()`);
    this.runs.delete(run);
  }

  private async send(buffer: OpBuffer, run: Run | null, final: boolean): Promise<SyncResponse> {
    const builder = buffer.builder;
    const part = ++this.part;
    const syncTimestamp = run ? run.syncTimestamp : this.syncTimestamp;
    const env: Envelope = {
      organizationId: this.o.organizationId,
      vectorStoreId: this.o.vectorStoreId,
      mode: run ? "full_refresh" : "incremental",
      syncTimestamp,
    };
    const names = final && run ? [...run.namespaces].sort().slice(0, MAX_FINAL_NAMESPACES) : [];
    const body = partBody(env, builder.ops, run ? final : undefined, names);
    const key = partKey(this.o.vectorStoreId, syncTimestamp, part, sha256Hex(body));
    const what = run ? `run ${run.label}${final ? " (final)" : " (part)"}` : "incremental";
    let answer: SyncResponse;
    try {
      const sent = await sendPart(this.o.client, part, body, key, this.o.retry, {
        ...(this.o.url !== undefined ? { url: this.o.url } : {}),
        onRetry: (a) =>
          this.o.log(
            "WARN",
            `request ${a.part} (${what}): ${a.reason}; retrying in ${(a.delayMs / 1000).toFixed(1)} s (attempt ${a.attempt + 1} of ${this.o.retry.attempts})`,
          ),
      });
      answer = sent.response;
    } catch (err) {
      if (err instanceof PartFailed) {
        // A server that answered nothing, or kept failing, may answer the platform's next attempt.
        const transient = err.code === "RETRIES_EXHAUSTED" || err.code === "CONNECTION_REFUSED";
        throw new PipelineFailure(
          `request ${part} (${what}, ${builder.size} operations): ${err.message}${err.traceId ? ` (trace ${err.traceId})` : ""}`,
          transient,
        );
      }
      throw err;
    }
    this.totals.requests++;
    this.totals.upserted += answer.results.upserted;
    this.totals.deleted += answer.results.deleted - (answer.sweep?.deleted ?? 0);
    this.totals.unchanged += answer.results.unchanged;
    this.totals.stale += answer.results.stale ?? 0;
    this.totals.failed += answer.results.failed;
    this.totals.swept += answer.sweep?.deleted ?? 0;
    const failures = answer.errors.filter((e) => e.index !== null);
    // Without an index, a failure is a record the sweep could not remove: `remaining` counts it and the
    // final is sent again.
    if (failures.length > 0 || (answer.results.failed > 0 && !final)) {
      const first = failures
        .slice(0, 5)
        .map((e) => `record #${builder.lines[e.index!] ?? "?"} (${e.namespace}/${e.id}): ${e.code} ${e.message}`)
        .join("; ");
      throw new PipelineFailure(`request ${part} (${what}): ${answer.results.failed} operations were not applied: ${first}`, false);
    }
    const sweep = answer.sweep ? `; swept ${answer.sweep.deleted}, ${answer.sweep.remaining} left` : "";
    const r = answer.results;
    this.o.log(
      "INFO",
      `request ${part} (${what}): ${builder.size} operations committed: upserted ${r.upserted}, deleted ${r.deleted}, unchanged ${r.unchanged}, stale ${r.stale ?? 0}${sweep} (sync ${answer.sync_id})`,
    );
    builder.reset();
    buffer.firstSeq = null;
    this.held -= buffer.bytes;
    buffer.bytes = 0;
    return answer;
  }
}
