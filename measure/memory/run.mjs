#!/usr/bin/env node
// npm run memory -- [--layout=shared|split|both] [scenario ...]: peak JavaScript heap of the
// worker's isolates while they handle the worst sync requests the service's limits allow (20 MiB
// bodies, 5000 operations, 256 KiB records, 64-level nesting). Default: every scenario, both layouts.
//
// Method. Each scenario gets a fresh Miniflare running the dev worker built from
// the memory entry (MemoryVectorStoreSync; same app and local stand-ins as the bench, production MAX_BODY_BYTES,
// rate limits out of the way) with `inspectorPort`, so workerd serves V8's inspector on a
// loopback port; GET /json lists one target per worker ("core:user:<name>"), one isolate each.
// The script opens a WebSocket to each isolate of the app, sends one small warm-up sync (so
// compiled code is not counted), forces a full GC in each (HeapProfiler.collectGarbage: workerd
// runs it only once the isolate runs again, so GET /__memory/wake follows, which touches the
// worker, its Durable Object and the stand-ins), takes a baseline (Runtime.getHeapUsage), then
// sends the scenario's request and polls Runtime.getHeapUsage every ~5 ms per isolate until the
// response is back. Per isolate: peak usedSize over the baseline and absolute, peak totalSize
// (heap V8 had committed), peak backingStorageSize (ArrayBuffers, outside usedSize); and the
// workerd process's peak RSS over its baseline (VmHWM, reset through /proc/<pid>/clear_refs).
//
// Layouts. shared (as the bench and `npm run dev`): worker, Durable Object and stand-ins in
// one isolate, an upper bound for any one production isolate. split (as production): the Durable
// Object (VectorStoreSync) in a worker of its own, the stand-ins in a third; worker and DO shown.
//
// Caveats, printed with the results:
// - workerd answers inspector messages only between stretches of JavaScript (of any isolate: it
//   runs them on one thread), never during one: "gap" is the longest time without a sample.
//   Memory allocated and freed inside one stretch is not seen by usedSize, so its peak is a lower
//   bound of the true one; totalSize and RSS (not given back at once) show such growth. usedSize
//   also counts garbage not yet collected. Runs vary by several MB with GC timing.
// - Scenario `calibration` checks the method: the worker holds a known 32 MiB across an await,
//   which must show as +32 MiB.
//
// Exit code 0 when every scenario ran, 1 when one timed out, failed to run or crashed workerd
// (Miniflare is restarted for the next scenario; an out-of-memory crash is itself the finding).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { upserts } from "../records.mjs";
import { alive, buildMemoryWorker, envelope, MAX_BODY_BYTES, MiB, sleep, startApp, stopApp, withTimeout } from "./harness.mjs";
import { SCENARIOS } from "./scenarios.mjs";
import { patchMiniflareV8Flags } from "./v8-flags.mjs";

// MEMORY_V8_FLAGS="--max-heap-size=64": V8 flags for workerd (Config.v8Flags; Miniflare has no
// option, see patchMiniflareV8Flags). With a heap cap, a scenario that needs more than the cap of live
// memory kills workerd (the run reports it as crashed): survival is the test, not the samples.
const V8_FLAGS = (process.env.MEMORY_V8_FLAGS ?? "").split(/\s+/).filter(Boolean);
if (V8_FLAGS.length) patchMiniflareV8Flags(V8_FLAGS);

const root = fileURLToPath(new URL("../..", import.meta.url));
const TIMEOUT_MS = Number(process.env.MEMORY_TIMEOUT_MS ?? 300_000);
const mb = (bytes) => (bytes == null ? null : Number((bytes / MiB).toFixed(1))); // MiB, printed as "MB"

const args = process.argv.slice(2);
const layoutArg = (args.find((a) => a.startsWith("--layout=")) ?? "--layout=both").slice("--layout=".length);
const wanted = args.filter((a) => !a.startsWith("--"));
const unknown = [
  ...wanted.filter((n) => !(n in SCENARIOS)),
  ...(["shared", "split", "both"].includes(layoutArg) ? [] : [`--layout=${layoutArg}`]),
];
if (unknown.length) {
  console.error(
    `unknown: ${unknown.join(" ")}\nusage: npm run memory -- [--layout=shared|split|both] [${Object.keys(SCENARIOS).join("|")} ...]`,
  );
  process.exit(2);
}
const names = wanted.length ? wanted : Object.keys(SCENARIOS);
const layouts = layoutArg === "both" ? ["shared", "split"] : [layoutArg];

// --- the worker under test ------------------------------------------------------------------------
const git = (...a) => execFileSync("git", a, { cwd: root, encoding: "utf8" }).trim();
const commit = git("rev-parse", "--short", "HEAD");
const srcChanges = git("status", "--short", "src");
const scriptPath = await buildMemoryWorker("memory-worker.js");

const procStatus = (pid, field) => {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
  } catch {
    return null;
  }
};

// The isolates shown per layout (WORKERS names them all).
const SHOWN = { shared: ["all"], split: ["worker", "do"] };
const start = (layout) => startApp(layout, { scriptPath });
const stop = stopApp;
const bodyOf = (store, operations) => JSON.stringify(envelope(store, operations));

/** A full GC of every isolate: workerd runs one only once the isolate runs again, so /__memory/wake follows. */
async function collectGarbage(session) {
  for (let round = 0; round < 2; round++) {
    const gcs = Object.values(session.isolates).map((isolate) => isolate.send("HeapProfiler.collectGarbage"));
    const all = Promise.all(gcs);
    let finished = false;
    all.then(
      () => {
        finished = true;
      },
      () => {
        finished = true;
      },
    );
    for (let i = 0; i < 50 && !finished; i++) {
      await session.call("GET", "/__memory/wake");
      await Promise.race([all, sleep(100)]);
    }
    await withTimeout(all, 1000, "HeapProfiler.collectGarbage");
  }
}

/** Runs `request` while sampling each isolate's heap; returns the outcome and, per isolate, the peaks. */
async function measure(session, request) {
  await collectGarbage(session);
  const heaps = {};
  for (const [label, isolate] of Object.entries(session.isolates)) {
    const base = await isolate.send("Runtime.getHeapUsage");
    heaps[label] = { base, used: base.usedSize, total: base.totalSize, backing: base.backingStorageSize ?? 0, samples: 0, maxGap: 0 };
  }
  let rssBase = procStatus(session.pid, "VmRSS");
  try {
    writeFileSync(`/proc/${session.pid}/clear_refs`, "5");
  } catch {
    rssBase = null;
  } // resets VmHWM
  let done = false;
  const started = performance.now();
  const samplers = Object.entries(session.isolates).map(async ([label, isolate]) => {
    const h = heaps[label];
    let last = performance.now();
    while (!done) {
      let u;
      try {
        u = await isolate.send("Runtime.getHeapUsage");
      } catch {
        return;
      }
      const now = performance.now();
      h.maxGap = Math.max(h.maxGap, now - last);
      last = now;
      h.samples++;
      h.used = Math.max(h.used, u.usedSize);
      h.total = Math.max(h.total, u.totalSize);
      h.backing = Math.max(h.backing, u.backingStorageSize ?? 0);
      await sleep(5);
    }
  });
  let outcome;
  try {
    outcome = { ok: true, value: await withTimeout(request(), TIMEOUT_MS, "request") };
  } catch (err) {
    outcome = { ok: false, error: err };
  }
  const ms = performance.now() - started;
  done = true;
  await withTimeout(Promise.all(samplers), 2000, "samplers").catch(() => {});
  const hwm = procStatus(session.pid, "VmHWM");
  const isolates = Object.fromEntries(
    Object.entries(heaps).map(([label, h]) => [
      label,
      {
        baseline_mb: mb(h.base.usedSize),
        peak_over_baseline_mb: mb(h.used - h.base.usedSize),
        peak_mb: mb(h.used),
        peak_total_mb: mb(h.total),
        peak_backing_store_mb: mb(h.backing),
        max_gap_ms: Math.round(h.maxGap),
        samples: h.samples,
      },
    ]),
  );
  return { outcome, ms, isolates, rss: rssBase != null && hwm != null ? hwm - rssBase : null };
}

// --- run ---------------------------------------------------------------------------------------------
console.log(`commit ${commit}${srcChanges ? `, with uncommitted changes in src/:\n${srcChanges.replace(/^/gm, "  ")}` : ", src/ clean"}`);
console.log(
  `method: V8 inspector, Runtime.getHeapUsage every ~5 ms on each isolate of the app (workerd); Node ${process.version}. MB = MiB.`,
);
const results = [];
let failed = false;
let current = null; // the running Miniflare, disposed on Ctrl-C too
process.on("SIGINT", () => {
  stop(current).finally(() => process.exit(130));
});

for (const layout of layouts) {
  console.log(
    layout === "shared"
      ? "\nlayout shared (as the bench): the worker, its Durable Object and the AI/Vectorize stand-ins share one isolate;\n" +
          "production gives the Durable Object its own isolate and has no stand-ins, so these figures are an upper bound for one isolate."
      : "\nlayout split (as production): the worker, its Durable Object and the stand-ins in three isolates; worker and DO shown.",
  );
  const shown = SHOWN[layout];
  const cols = shown.flatMap((l) => [`${l} +MB`, `${l} MB`, `${l} tot`, `${l} ext`, `${l} gap`]);
  console.log(
    [
      `${"scenario".padEnd(15)}`,
      "  ops",
      "body MB",
      "HTTP",
      "upserted/failed or error".padEnd(30),
      "wall s",
      ...cols.map((c) => c.padStart(Math.max(7, c.length))),
      "RSS +MB",
    ].join(" "),
  );
  for (const name of names) {
    let session;
    const entry = { layout, scenario: name };
    results.push(entry);
    try {
      session = current = await start(layout);
      // Warm-up: a small sync compiles the code paths, so the measured request does not count them.
      const warm = await session.call(
        "POST",
        "/v1/connectors/pipeline/sync",
        bodyOf(await session.newStore(), upserts(20, { seed: 9, prefix: "warm_" })),
        { "X-API-Key": session.apiKey },
      );
      if (warm.status !== 200) throw new Error(`warm-up sync: ${warm.status} ${warm.text.slice(0, 200)}`);
      let ops = 0,
        bodyBytes = 0,
        request;
      if (name === "calibration") {
        // 32 MiB held by the worker on a timer must show as ~32 MiB
        request = () => session.call("GET", "/__memory/allocate?mb=32&hold_ms=300");
      } else {
        const operations = SCENARIOS[name]();
        const body = bodyOf(await session.newStore(), operations);
        ops = operations.length;
        bodyBytes = Buffer.byteLength(body);
        if (bodyBytes > MAX_BODY_BYTES) throw new Error(`scenario body is ${bodyBytes} bytes, over ${MAX_BODY_BYTES}`);
        request = () => session.call("POST", "/v1/connectors/pipeline/sync", body, { "X-API-Key": session.apiKey });
      }
      const m = await measure(session, request);
      Object.assign(entry, {
        ops,
        body_mb: mb(bodyBytes),
        wall_s: Number((m.ms / 1000).toFixed(1)),
        isolates: m.isolates,
        peak_rss_over_baseline_mb: mb(m.rss),
      });
      let result;
      if (m.outcome.ok) {
        const { status, json, text } = m.outcome.value;
        entry.status = status;
        if (json?.results) {
          Object.assign(entry, { upserted: json.results.upserted, failed: json.results.failed });
          const codes = {};
          for (const e of json.errors ?? []) {
            codes[e.code] ??= { count: 0, first: e.message };
            codes[e.code].count++;
          }
          if (Object.keys(codes).length) entry.errors = codes;
          result = `${json.results.upserted}/${json.results.failed} ${Object.keys(codes).join(",")}`;
        } else if (name === "calibration") {
          entry.held_mib = json?.bytes / MiB;
          result = `${entry.held_mib} MiB held`;
        } else {
          result = entry.error = json?.error?.code ?? json?.code ?? text.slice(0, 80);
        }
      } else {
        const dead = session.pid != null && !alive(session.pid);
        entry.status = dead ? "crash" : String(m.outcome.error.message).startsWith("timeout") ? "timeout" : "error";
        entry.error = dead ? "workerd died during the request" : m.outcome.error.message;
        result = entry.error;
        failed = true;
      }
      const cells = shown.flatMap((l) => {
        const i = m.isolates[l];
        return [i.peak_over_baseline_mb, i.peak_mb, i.peak_total_mb, i.peak_backing_store_mb, i.max_gap_ms];
      });
      console.log(
        [
          name.padEnd(15),
          String(ops).padStart(5),
          String(mb(bodyBytes)).padStart(7),
          String(entry.status).padStart(4),
          result.slice(0, 30).padEnd(30),
          (m.ms / 1000).toFixed(1).padStart(6),
          ...cells.map((c, k) => String(c).padStart(Math.max(7, cols[k].length))),
          String(mb(m.rss)).padStart(7),
        ].join(" "),
      );
    } catch (err) {
      const dead = session?.pid != null && !alive(session.pid);
      entry.status = dead ? "crash" : "error";
      entry.error = `${dead ? "workerd died: " : ""}${err.message}`;
      console.log(`${name.padEnd(15)} ${entry.status}: ${entry.error}`);
      failed = true;
    } finally {
      await stop(session);
      current = null;
    }
  }
}

console.log(`\n+MB: peak usedSize over the post-GC baseline; MB: peak usedSize; tot: peak totalSize (heap V8 had committed);`);
console.log(`ext: peak ArrayBuffer backing stores (outside usedSize); gap: longest ms without a sample (JavaScript ran without`);
console.log(`yielding: a peak inside it is missed by usedSize, but tot and RSS show the growth); RSS +MB: whole workerd process.`);
for (const e of results)
  for (const [code, { count, first }] of Object.entries(e.errors ?? {})) {
    console.log(`${e.layout}/${e.scenario}: ${code} (${count} of the errors listed): ${first}`);
  }
console.log(
  JSON.stringify({
    commit,
    src_uncommitted: srcChanges ? srcChanges.split("\n") : [],
    method: "v8-inspector Runtime.getHeapUsage",
    max_body_bytes: MAX_BODY_BYTES,
    results,
  }),
);
process.exit(failed ? 1 : 0);
