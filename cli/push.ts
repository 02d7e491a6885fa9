/**
 * `unified-sync push`: streams JSON lines into sync requests, one part at a time (at most one
 * part is held), as an incremental sync or as one full_refresh run (parts with "final": false,
 * the last with "final": true and the run's namespaces, then the final again while the sweep
 * reports `remaining`). Deterministic Idempotency-Keys and the state file make a re-run of the
 * same command resume without applying anything twice.
 */
import { createReadStream, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { createSyncClient, type SyncClient, type SyncResponse } from "../src/client/index";
import { NAMESPACE_PATTERN } from "../src/schemas/common";
import { IdCollisions, refuseCollidingId } from "./id-collisions";
import { readLines } from "./lines";
import { ENVELOPE_RESERVE_BYTES, MAX_FINAL_NAMESPACES, PartBuilder, partBody, partKey, sha256Hex, type Envelope } from "./parts";
import { createProgress } from "./progress";
import { toOperation, type Mapping } from "./records";
import { Summary, count } from "./report";
import { PartFailed, sendPart, type RetryPolicy } from "./retry";
import { StateFile, identityOf, loadState } from "./state";

export interface PushOptions {
  /** A file path, or null for stdin. */
  file: string | null;
  url: string;
  apiKey: string;
  org: string;
  store: string;
  mode: "incremental" | "full_refresh";
  syncTimestamp: string | null;
  mapping: Mapping;
  resume: boolean;
  restart: boolean;
  stateFile: string | null;
  maxOperations: number;
  maxBodyBytes: number;
  retry: RetryPolicy;
  quiet: boolean;
  tty: boolean;
}

/** A final request whose sweep makes no progress this many times in a row ends the push (run left open). */
const STALLED_SWEEP_ROUNDS = 3;

/** The stored answer of an earlier part (for --resume), or null when the server does not have it. */
async function storedAnswer(client: SyncClient, syncId: string): Promise<SyncResponse | null> {
  try {
    const { data, response } = await client.GET("/v1/connectors/pipeline/syncs/{sync_id}", { params: { path: { sync_id: syncId } } });
    return response.status === 200 && data ? (data as unknown as SyncResponse) : null;
  } catch {
    return null;
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");
const describe = (r: SyncResponse["results"]) =>
  `upserted ${fmt(r.upserted)}, deleted ${fmt(r.deleted)}, unchanged ${fmt(r.unchanged)}, stale ${fmt(r.stale ?? 0)}, failed ${fmt(r.failed)}`;

export async function push(o: PushOptions, signal: AbortSignal, warn: (m: string) => void): Promise<Summary> {
  let stream: Readable;
  let size: number | null = null;
  let statePath = o.stateFile;
  let input: unknown;
  if (o.file !== null) {
    const st = statSync(o.file);
    if (!st.isFile()) throw new Error(`${o.file} is not a file`);
    size = st.size;
    statePath ??= `${o.file}.unified-sync-state.json`;
    input = { path: resolve(o.file), size: st.size, mtime: st.mtimeMs };
    stream = createReadStream(o.file, { highWaterMark: 1 << 20 });
  } else {
    input = "stdin";
    stream = process.stdin;
  }
  if (o.resume && statePath === null) throw new Error("--resume needs a state file: push a file, or give --state-file for stdin");

  // The state of an unfinished push of the same input to the same target, cut into the same parts.
  const identity = identityOf({
    url: o.url,
    org: o.org,
    store: o.store,
    mode: o.mode,
    input,
    mapping: o.mapping,
    maxOperations: o.maxOperations,
    maxBodyBytes: o.maxBodyBytes,
  });
  let prior = statePath !== null && !o.restart ? loadState(statePath) : null;
  if (prior && prior.identity !== identity) {
    warn(`${statePath} belongs to another push (other input, target or options): starting a new push`);
    prior = null;
  }
  if (prior && o.syncTimestamp !== null && prior.sync_timestamp !== o.syncTimestamp) prior = null;
  const syncTimestamp = o.syncTimestamp ?? prior?.sync_timestamp ?? new Date().toISOString();
  const state = new StateFile(
    statePath,
    prior ?? { version: 1, identity, sync_timestamp: syncTimestamp, started_at: new Date().toISOString(), parts: {} },
    warn,
  );

  const summary = new Summary(o.mode, o.store, o.org, syncTimestamp);
  const progress = createProgress({ tty: o.tty, quiet: o.quiet, totalBytes: size });
  if (prior) progress.log(`resuming the unfinished push started ${prior.started_at} (sync_timestamp ${syncTimestamp})`);
  else if (o.resume) progress.log("--resume: no unfinished push of this input found; starting a new one");
  state.save();

  const client = createSyncClient({ baseUrl: o.url, apiKey: o.apiKey, headers: { "User-Agent": "unified-sync-cli/0.1" } });
  const env: Envelope = { organizationId: o.org, vectorStoreId: o.store, mode: o.mode, syncTimestamp };
  const fullRefresh = o.mode === "full_refresh";
  const builder = new PartBuilder(o.maxOperations, o.maxBodyBytes);
  const reader = readLines(stream, o.maxBodyBytes - ENVELOPE_RESERVE_BYTES);
  // Every valid namespace the run names (a raw-record push always names its --namespace, so an
  // empty input empties it): the final request's `namespaces`.
  const runNamespaces = new Set<string>(o.mapping.namespace !== undefined ? [o.mapping.namespace] : []);
  const ids = new IdCollisions();
  let part = 0;
  let last: SyncResponse | null = null;
  let finalSent = false;
  // Progress counts the input bytes of the lines whose part was answered (not the read-ahead).
  let consumed = 0;
  let previousLine = 0;
  let done = 0;
  const stats = () => ({ bytesRead: done, records: summary.recordsSent, parts: summary.parts });

  async function send(final: boolean | undefined) {
    part++;
    const names = final ? [...runNamespaces].slice(0, MAX_FINAL_NAMESPACES) : [];
    const body = partBody(env, builder.ops, final, names);
    const key = partKey(o.store, syncTimestamp, part, sha256Hex(body));
    const t0 = Date.now();
    let answer: SyncResponse | null = null;
    let how: "sent" | "replayed" | "resumed" = "sent";
    const known = o.resume ? state.get(part) : undefined;
    if (known && known.key === key) {
      answer = await storedAnswer(client, known.sync_id);
      if (answer) how = "resumed";
    }
    if (!answer) {
      const sent = await sendPart(client, part, body, key, o.retry, {
        signal,
        url: o.url,
        onRetry: (a) =>
          progress.log(
            `part ${a.part}: ${a.reason}; retrying in ${(a.delayMs / 1000).toFixed(1)} s (attempt ${a.attempt + 1} of ${a.of ?? o.retry.attempts})`,
          ),
      });
      answer = sent.response;
      how = sent.replayed ? "replayed" : "sent";
      state.record(part, { key, sync_id: answer.sync_id });
    }
    summary.recordsSent += builder.size;
    summary.addAnswer(answer, builder.lines, how);
    const counted = summary.checkCount(part, builder.size, answer.processed);
    const note =
      how === "replayed" ? " (replayed: applied by an earlier attempt)" : how === "resumed" ? " (skipped: answered before, --resume)" : "";
    const mismatch = counted ? "" : ` (the server counts ${answer.processed} processed of ${builder.size} sent)`;
    const sweep = answer.sweep ? `; swept ${fmt(answer.sweep.deleted)}, ${fmt(answer.sweep.remaining)} left` : "";
    const label = final ? (finalSent ? " (final again: the sweep had more left)" : " (final)") : "";
    if (final) finalSent = true;
    progress.log(
      `part ${part}${label}: ${count(builder.size, "operation")}: ${describe(answer.results)}${sweep}${note}${mismatch} ` +
        `[${((Date.now() - t0) / 1000).toFixed(1)} s]`,
    );
    builder.reset();
    done = consumed;
    last = answer;
    progress.update(stats());
  }

  let finished = false;
  // A failure that the same command cannot resume: its state would only be in the way.
  let nothingToResume = false;
  try {
    for await (const line of reader.lines) {
      if (signal.aborted) throw signal.reason;
      summary.linesRead = line.number;
      // Lines before this one (blank lines, which the reader drops, are caught up at the end).
      consumed += previousLine;
      previousLine = line.bytes + 1;
      if ("error" in line) {
        summary.addSkipped({ line: line.number, code: line.error, message: line.message, namespace: null, id: null });
        continue;
      }
      const op = toOperation(line.number, line.text, o.mapping);
      if (op.kind === "skip") {
        summary.addSkipped(op);
        continue;
      }
      const collision = refuseCollidingId(ids, op);
      if (collision) {
        summary.addSkipped(collision);
        continue;
      }
      if (op.bytes > builder.maxOperationBytes) {
        summary.addSkipped({
          line: op.line,
          code: "OPERATION_TOO_LARGE",
          namespace: op.namespace,
          id: op.id,
          message: `the operation is ${op.bytes} bytes; a part holds at most ${builder.maxOperationBytes}`,
        });
        continue;
      }
      if (!builder.fits(op)) await send(fullRefresh ? false : undefined);
      builder.add(op);
      if (op.namespace !== null && NAMESPACE_PATTERN.test(op.namespace)) runNamespaces.add(op.namespace);
      if (line.number % 500 === 0) progress.update(stats());
    }

    consumed = reader.bytesRead();
    if (!fullRefresh) {
      if (builder.size > 0) await send(undefined);
    } else if (summary.skipped > 0 || summary.countMismatches.length > 0) {
      // A line that was not sent, or not counted by the server, may be a record the store holds: a
      // sweep would delete it. As the server does for a failed operation, sweep nothing: the run
      // stays open.
      if (builder.size > 0) await send(false);
      summary.run = {
        sync_timestamp: syncTimestamp,
        state: summary.run?.state ?? "open",
        swept: 0,
        final_sent: false,
        note:
          summary.skipped > 0
            ? `${count(summary.skipped, "line")} could not be sent; fix ${summary.skipped === 1 ? "it" : "them"} and push again`
            : "an answer counted other than the operations its part sent; push again",
      };
    } else {
      await send(true);
      let stalled = 0;
      for (let remaining = (last as SyncResponse | null)?.sweep?.remaining ?? 0; remaining > 0; ) {
        await send(true);
        const now = (last as SyncResponse | null)?.sweep?.remaining ?? 0;
        stalled = now >= remaining ? stalled + 1 : 0;
        remaining = now;
        if (stalled >= STALLED_SWEEP_ROUNDS && remaining > 0) {
          summary.run = {
            ...summary.run!,
            note: `the sweep made no progress ${STALLED_SWEEP_ROUNDS} times; ${remaining} records left: push again later`,
          };
          break;
        }
      }
    }
    // The whole input went out. Only a run whose sweep stalled can still be continued by the same
    // command (same sync_timestamp: the parts replay, the final is sent again); a run whose final
    // was withheld needs a corrected input, which is a new push anyway.
    finished = !(fullRefresh && summary.run?.final_sent && summary.run.state !== "completed");
    if (finished) state.remove();
  } catch (err) {
    if (err instanceof PartFailed) {
      nothingToResume = err.permanent || (err.neverReached && summary.parts === 0);
      summary.fatal = {
        message: `part ${part}: ${err.message}`,
        status: err.status,
        code: err.code,
        trace_id: err.traceId,
        ...(err.details ? { details: err.details } : {}),
      };
    } else if (signal.aborted) {
      summary.fatal = { message: `interrupted during part ${part}`, status: null, code: "INTERRUPTED", trace_id: null };
    } else {
      summary.fatal = { message: err instanceof Error ? err.message : String(err), status: null, code: "INPUT_ERROR", trace_id: null };
    }
  } finally {
    progress.stop();
    stream.destroy();
  }
  if (nothingToResume) state.remove();
  else if (!finished && state.path !== null && (summary.fatal?.code !== "INPUT_ERROR" || summary.parts > 0)) {
    warn(`unfinished: state kept in ${state.path}; run the same command again to resume (--resume skips the parts already answered)`);
  }
  return summary;
}
