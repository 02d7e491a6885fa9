/**
 * `airbyte write`: Airbyte messages from stdin to sync requests.
 *
 * RECORDs become operations (cli/pipeline: record-op, writer); each STATE is held until every
 * record that arrived before it is committed, then echoed with destinationStats.recordCount, in
 * arrival order. Held states are flushed for when a request fills up, when the oldest has waited
 * `flush_interval_seconds` (also while the source is silent), and at the end of input. Each
 * overwrite stream is its own full_refresh run, opened at the start (so a stream that sends nothing
 * is emptied) and finished with its final request at the end of input, unless the source reported
 * an error or the stream as incomplete: then the run stays open and nothing of it is swept.
 * After any failure: a TRACE error, no further state, exit 1.
 */
import type { Readable } from "node:stream";
import { loadConfig } from "../pipeline/config";
import { memberText, withMember } from "../pipeline/json-spans";
import { findOpenRuns } from "../pipeline/open-runs";
import { InputError, isObject, MessagePump, pipelineWriter } from "../pipeline/pump";
import { recordOperation } from "../pipeline/record-op";
import { PipelineFailure, type Run } from "../pipeline/writer";
import { type StreamPlan, loadCatalog, streamKey } from "./catalog";
import { log, type Output, traceError } from "./protocol";

const DELETE_FIELD = "_ab_cdc_deleted_at";

interface Active extends StreamPlan {
  run: Run | null;
  incomplete: boolean;
}

export async function runWrite(out: Output, configPath: string, catalogPath: string, input: Readable): Promise<number> {
  const loaded = loadConfig(configPath);
  if ("error" in loaded) {
    traceError(out, loaded.error, "config_error");
    return 1;
  }
  const config = loaded.config;
  const catalog = loadCatalog(catalogPath, config);
  if ("error" in catalog) {
    traceError(out, catalog.error, "config_error");
    return 1;
  }

  const { client, writer, retry } = pipelineWriter(config, "unified-sync-airbyte/0.1", (level, message) => log(out, level, message));
  const streams = new Map<string, Active>();
  const byName = new Map<string, Active[]>();
  let unfinished: Map<string, string>;
  try {
    const refreshed = new Set([...catalog.streams.values()].filter((p) => p.refresh).map((p) => p.namespace));
    unfinished = await findOpenRuns(client, config.vector_store_id, refreshed, retry);
  } catch (err) {
    traceError(out, `unified-sync: ${(err as Error).message}`, "transient_error");
    return 1;
  }
  for (const [key, plan] of catalog.streams) {
    const resumed = unfinished.get(plan.namespace);
    if (resumed !== undefined)
      log(out, "INFO", `stream ${plan.label}: continuing its unfinished run ${resumed} (an earlier attempt left it open)`);
    const active: Active = { ...plan, run: plan.refresh ? writer.openRun(plan.label, [plan.namespace], resumed) : null, incomplete: false };
    streams.set(key, active);
    byName.set(plan.name, [...(byName.get(plan.name) ?? []), active]);
    log(
      out,
      "INFO",
      `stream ${plan.label} -> namespace ${plan.namespace}: ${active.run ? `full_refresh run ${active.run.syncTimestamp}` : "incremental"}, id from ${
        plan.keyPaths.length ? plan.keyPaths.map((p) => p.join(".")).join(" + ") : "a content hash"
      }`,
    );
  }
  const find = (namespace: unknown, name: unknown): Active | undefined => {
    if (typeof name !== "string") return undefined;
    const exact = streams.get(streamKey(typeof namespace === "string" ? namespace : null, name));
    if (exact || namespace != null) return exact;
    const same = byName.get(name);
    return same?.length === 1 ? same[0] : undefined;
  };

  // Records since the last state: per stream (STREAM states) and in all (GLOBAL and LEGACY states).
  const sinceState = new Map<string, number>();
  let sinceGlobal = 0;
  let received = 0;
  let emitted = 0;
  let skipped = 0;
  let sourceFailed = false;
  const pump = new MessagePump(
    writer,
    config.flush_interval_seconds * 1000,
    () => received,
    (ready) => {
      for (const text of ready) {
        out.line(text);
        emitted++;
      }
    },
  );

  try {
    await pump.run(input, async (next) => {
      let message: unknown;
      try {
        message = JSON.parse(next.text);
      } catch {
        message = null;
      }
      if (!isObject(message) || typeof message.type !== "string") {
        // As the Airbyte CDK does: a line that is not a message is logged and ignored.
        log(out, "WARN", `input line ${next.number} is not an Airbyte message; ignored`);
        return null;
      }
      if (message.type === "RECORD") {
        const record = message.record;
        if (!isObject(record)) throw new InputError(`input line ${next.number}: a RECORD without a record object`);
        const stream = find(record.namespace, record.stream);
        if (!stream) {
          throw new InputError(
            `input line ${next.number}: a record of stream '${String(record.stream)}', which the configured catalog does not list`,
          );
        }
        received++;
        sinceGlobal++;
        const key = streamKey(stream.sourceNamespace, stream.name);
        sinceState.set(key, (sinceState.get(key) ?? 0) + 1);
        const recordText = memberText(next.text, "record")!;
        const dataText = memberText(recordText, "data") ?? "null";
        const r = recordOperation(
          received,
          { namespace: stream.namespace, keyPaths: stream.keyPaths, deleteField: DELETE_FIELD },
          record.data,
          dataText,
        );
        if ("error" in r) throw new InputError(`input line ${next.number}: a record of stream ${stream.label}: ${r.error}`);
        if ("skip" in r) {
          if (skipped++ === 0) log(out, "WARN", `stream ${stream.label}: ${r.skip}; skipped (this warning is shown once)`);
        } else {
          await writer.add(stream.run, r.op);
        }
      } else if (message.type === "STATE") {
        const state = message.state;
        if (!isObject(state)) throw new InputError(`input line ${next.number}: a STATE without a state object`);
        let count: number;
        if (state.type === "STREAM" && isObject(state.stream) && isObject(state.stream.stream_descriptor)) {
          const d = state.stream.stream_descriptor;
          const stream = find(d.namespace, d.name);
          const key = stream ? streamKey(stream.sourceNamespace, stream.name) : null;
          // Only the catalog's streams are counted (and kept): a state of another stream counts 0.
          count = key !== null ? (sinceState.get(key) ?? 0) : 0;
          if (key !== null) sinceState.set(key, 0);
        } else {
          count = sinceGlobal;
          sinceGlobal = 0;
          sinceState.clear();
        }
        const stateText = memberText(next.text, "state")!;
        const text = withMember(next.text, "state", withMember(stateText, "destinationStats", `{"recordCount":${count}}`));
        pump.checkpoints.add(received, text, text.length);
      } else if (message.type === "TRACE") {
        const trace = isObject(message.trace) ? message.trace : {};
        if (trace.type === "ERROR") {
          sourceFailed = true;
          log(out, "WARN", "the source reported an error: no full_refresh run of this sync will be finished (nothing is swept)");
        } else if (trace.type === "STREAM_STATUS" && isObject(trace.stream_status)) {
          const s = trace.stream_status;
          const d = isObject(s.stream_descriptor) ? s.stream_descriptor : {};
          const stream = find(d.namespace, d.name);
          if (stream && s.status === "INCOMPLETE") stream.incomplete = true;
        }
      }
      // Other types (LOG, CONTROL, ...) are the platform's business, not the destination's.
      return message.type;
    });

    // A finished run's last operations go in its final request; everything else is sent as it is.
    const unfinished: Active[] = [];
    for (const stream of streams.values()) {
      if (!stream.run) continue;
      if (sourceFailed || stream.incomplete) unfinished.push(stream);
      else await writer.finishRun(stream.run);
    }
    await writer.flush();
    for (const stream of unfinished) {
      log(out, "WARN", `stream ${stream.label}: the source did not finish it; its run stays open and nothing is swept`);
      writer.dropRun(stream.run!);
    }
    pump.release();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PipelineFailure) {
      traceError(out, `unified-sync: ${message}`, err.transient ? "transient_error" : "system_error");
    } else if (err instanceof InputError) {
      traceError(out, `unified-sync: ${message}`, "system_error");
    } else {
      traceError(out, `unified-sync: ${message}`, "system_error", err instanceof Error ? err.stack : undefined);
    }
    log(out, "ERROR", `stopped after ${received} records; ${emitted} states emitted; no later state will be`);
    return 1;
  }
  const t = writer.totals;
  log(
    out,
    "INFO",
    `done: ${received} records, ${emitted} states emitted, ${t.requests} requests; upserted ${t.upserted}, deleted ${t.deleted}, unchanged ${t.unchanged}, swept ${t.swept}${skipped ? `, skipped ${skipped}` : ""}`,
  );
  return 0;
}
