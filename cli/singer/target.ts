/**
 * `unified-sync singer`: a Singer target. SCHEMA (its key_properties give the record id), RECORD,
 * STATE and ACTIVATE_VERSION from stdin.
 *
 * - A RECORD without `version` is an incremental upsert (a delete when `_sdc_deleted_at` is set).
 * - RECORDs with a `version` are the parts of a full_refresh run of their stream's namespace; the
 *   ACTIVATE_VERSION of that version is the run's final request, which sweeps what the version did
 *   not send. An ACTIVATE_VERSION whose version sent no record empties the namespace (the Singer
 *   meaning: only that version's rows remain). A newer version started before the older one was
 *   activated leaves the older run open (never swept; the service marks it superseded); an
 *   ACTIVATE_VERSION of another version than the one being sent is ignored (nothing swept). A stream's
 *   first run of this input continues the stream's unfinished run when there is one (see
 *   findOpenRuns: a tap resuming a version after a failed run).
 * - STATE: the latest value is written to stdout once every record before it is committed; states
 *   are released as requests are answered (see Checkpoints), so several arriving together print
 *   only the last, as Singer targets do. Logs go to stderr.
 */
import type { Readable } from "node:stream";
import { loadConfig } from "../pipeline/config";
import { memberText } from "../pipeline/json-spans";
import { NamespaceMap } from "../pipeline/namespaces";
import { findOpenRuns } from "../pipeline/open-runs";
import { InputError, isObject, MessagePump, pipelineWriter } from "../pipeline/pump";
import { recordOperation } from "../pipeline/record-op";
import { PipelineFailure, type Run } from "../pipeline/writer";
import { MAX_RUN_NAMESPACES } from "../../src/schemas/sync";

const DELETE_FIELD = "_sdc_deleted_at";
/** Streams one input may declare (the service's MAX_RUN_NAMESPACES): the target keeps one entry each. */
const MAX_STREAMS = MAX_RUN_NAMESPACES;

interface SingerStream {
  name: string;
  namespace: string;
  keyPaths: string[][];
  run: Run | null;
  /** The version the open run belongs to. */
  version: string | null;
  /** Whether this write already had a run of the stream (only the first may continue an unfinished one). */
  hadRun: boolean;
}

export interface SingerIo {
  /** A state value's JSON text, one line. */
  state(text: string): void;
  log(message: string): void;
}

export async function runSinger(io: SingerIo, configPath: string, input: Readable): Promise<number> {
  const loaded = loadConfig(configPath);
  if ("error" in loaded) {
    io.log(loaded.error);
    return 1;
  }
  const config = loaded.config;
  const { client, writer, retry } = pipelineWriter(config, "unified-sync-singer/0.1", (level, message) =>
    io.log(level === "WARN" ? `warning: ${message}` : message),
  );
  const names = new NamespaceMap(config.namespace_prefix, config.stream_namespaces);
  const streams = new Map<string, SingerStream>();
  let received = 0;
  let skipped = 0;
  let states = 0;
  // Several states released together print only the last, as Singer targets do.
  const pump = new MessagePump(
    writer,
    config.flush_interval_seconds * 1000,
    () => received,
    (ready) => {
      io.state(ready[ready.length - 1]!);
      states++;
    },
  );
  const streamOf = (line: number, name: unknown): SingerStream => {
    const stream = typeof name === "string" ? streams.get(name) : undefined;
    if (!stream) throw new InputError(`input line ${line}: stream '${String(name)}' has had no SCHEMA message`);
    return stream;
  };
  /** The open run of this version, a new run when the stream had another (or none). */
  const runFor = async (stream: SingerStream, version: string): Promise<Run> => {
    if (stream.run && stream.version === version) return stream.run;
    if (stream.run) {
      io.log(
        `warning: stream ${stream.name}: version ${version} started before version ${stream.version} was activated; that run stays open`,
      );
      await writer.flush();
      writer.dropRun(stream.run);
    }
    // Only the stream's first run of this write may continue an unfinished one: a later run follows
    // a run of this write, which is the open run a lookup would find.
    let resumed: string | undefined;
    if (!stream.hadRun) {
      resumed = (await findOpenRuns(client, config.vector_store_id, new Set([stream.namespace]), retry)).get(stream.namespace);
      if (resumed !== undefined) io.log(`stream ${stream.name}: continuing its unfinished run ${resumed} (an earlier run left it open)`);
    }
    stream.hadRun = true;
    stream.run = writer.openRun(`${stream.name}@${version}`, [stream.namespace], resumed);
    stream.version = version;
    return stream.run;
  };

  try {
    await pump.run(input, async (next) => {
      let message: unknown;
      try {
        message = JSON.parse(next.text);
      } catch (err) {
        throw new InputError(`input line ${next.number} is not JSON: ${(err as Error).message}`);
      }
      if (!isObject(message)) throw new InputError(`input line ${next.number} is not a Singer message`);
      if (message.type === "SCHEMA") {
        const name = message.stream;
        if (typeof name !== "string" || name === "") throw new InputError(`input line ${next.number}: a SCHEMA without a stream name`);
        const keys = message.key_properties ?? [];
        if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
          throw new InputError(`input line ${next.number}: key_properties of ${name} must be a list of property names`);
        }
        const existing = streams.get(name);
        if (existing) existing.keyPaths = keys.map((k) => [k]);
        else if (streams.size >= MAX_STREAMS) {
          throw new InputError(
            `input line ${next.number}: more than ${MAX_STREAMS} streams (a run names at most ${MAX_STREAMS} namespaces)`,
          );
        } else {
          const mapped = names.claim({ name });
          if ("error" in mapped) throw new InputError(mapped.error);
          streams.set(name, { name, namespace: mapped.namespace, keyPaths: keys.map((k) => [k]), run: null, version: null, hadRun: false });
          io.log(`stream ${name} -> namespace ${mapped.namespace}, id from ${keys.length ? keys.join(" + ") : "a content hash"}`);
        }
      } else if (message.type === "RECORD") {
        const stream = streamOf(next.number, message.stream);
        received++;
        const recordText = memberText(next.text, "record") ?? "null";
        const r = recordOperation(
          received,
          { namespace: stream.namespace, keyPaths: stream.keyPaths, deleteField: DELETE_FIELD },
          message.record,
          recordText,
        );
        if ("error" in r) throw new InputError(`input line ${next.number}: a record of stream ${stream.name}: ${r.error}`);
        if ("skip" in r) {
          if (skipped++ === 0) io.log(`warning: stream ${stream.name}: ${r.skip}; skipped (this warning is shown once)`);
        } else {
          const version = message.version;
          await writer.add(version === undefined || version === null ? null : await runFor(stream, String(version)), r.op);
        }
      } else if (message.type === "ACTIVATE_VERSION") {
        const stream = streamOf(next.number, message.stream);
        const version = String(message.version);
        if (stream.run && stream.version !== version) {
          // Activating another version than the one being sent would drop the records of the one
          // being sent: nothing is swept; the open run's own ACTIVATE_VERSION finishes it.
          io.log(`warning: stream ${stream.name}: ACTIVATE_VERSION ${version} while version ${stream.version} is being sent; ignored`);
          return null;
        }
        const run = await runFor(stream, version);
        await writer.finishRun(run);
        stream.run = null;
        stream.version = null;
        io.log(`stream ${stream.name}: version ${version} activated (run ${run.syncTimestamp} completed)`);
      } else if (message.type === "STATE") {
        const text = memberText(next.text, "value") ?? "null";
        pump.checkpoints.add(received, text, text.length);
      }
      // Other types (BATCH, ...) are not supported and ignored.
      return String(message.type);
    });
    await writer.flush();
    for (const stream of streams.values()) {
      if (stream.run) {
        io.log(`stream ${stream.name}: version ${stream.version} was never activated; its run stays open and nothing is swept`);
        writer.dropRun(stream.run);
      }
    }
    pump.release();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.log(`failed: ${message}`);
    io.log(`stopped after ${received} records; ${states} states written; no later state will be`);
    if (!(err instanceof PipelineFailure || err instanceof InputError) && err instanceof Error && err.stack) io.log(err.stack);
    return 1;
  }
  const t = writer.totals;
  io.log(
    `done: ${received} records, ${states} states written, ${t.requests} requests; upserted ${t.upserted}, deleted ${t.deleted}, unchanged ${t.unchanged}, swept ${t.swept}${skipped ? `, skipped ${skipped}` : ""}`,
  );
  return 0;
}
