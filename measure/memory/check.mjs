#!/usr/bin/env node
// npm run memory:check: every request the limits allow is answered with V8's heap capped at 64 MB.
//
// The worst shapes at each position of a request (wide arrays and wide objects in a record's data,
// file, metadata and vector, in the envelope, in a search's filter, namespace list and vector;
// many scalars as operations; long strings; deep nesting; many tiny chunks; compressed bodies),
// each sized to the limits, are sent through Miniflare to the app laid out as in production: the
// Worker, the store's Durable Object and the local stand-ins in isolates of their own, each with
// `--max-heap-size=64` (workerd's v8Flags, see patchMiniflareV8Flags). A request needing more live heap
// kills workerd. Each scenario must be answered with its expected status class (2xx or 4xx, never
// 5xx), and /health must answer after it. Prints, per scenario, the answer, the wall time and the
// used heap of the Worker's and the object's isolates before the request -> its peak during it
// (sampled every ~20 ms through V8's inspector; garbage included, also that of earlier scenarios
// not yet collected; a stretch of JavaScript that never yields is seen at its end only:
// npm run memory measures more carefully, this one checks survival). Exit code 1 when a
// scenario fails, with a final "N passed, N failed" line either way.
//
// npm run memory:check -- [scenario ...]; MEMORY_V8_FLAGS overrides the flags ("" for none).
import { SCENARIOS } from "./check-scenarios.mjs";
import { buildMemoryWorker, envelope, MiB, sleep, startApp, stopApp } from "./harness.mjs";
import { patchMiniflareV8Flags } from "./v8-flags.mjs";

const V8_FLAGS = (process.env.MEMORY_V8_FLAGS ?? "--max-heap-size=64").split(/\s+/).filter(Boolean);
if (V8_FLAGS.length) patchMiniflareV8Flags(V8_FLAGS);

const TIMEOUT_MS = 60_000;
const mb = (bytes) => (bytes / MiB).toFixed(1);

// --- the app ---------------------------------------------------------------------------------------
const scriptPath = await buildMemoryWorker("memory-check-worker.js");

/** The app laid out as in production; the Worker's and the object's isolates sampled. */
async function start() {
  const app = await startApp("split", { scriptPath, isolates: { worker: "memory", object: "memory-do" } });
  try {
    // A small sync first: the object exists and the code is compiled before measuring.
    app.apiKeyHeader = { "X-API-Key": app.apiKey };
    const warm = await app.newStore();
    const w = await app.call(
      "POST",
      "/v1/connectors/pipeline/sync",
      envelope(warm, [{ action: "upsert", id: "w", namespace: "w", data: { t: "warm" } }]),
      app.apiKeyHeader,
    );
    if (w.status !== 200) throw new Error(`warm-up sync: ${w.status} ${w.text.slice(0, 200)}`);
    return app;
  } catch (err) {
    await stopApp(app);
    throw err;
  }
}

/** Used heap of each isolate before `request` runs and its peak while it runs. */
async function sampled(app, request) {
  const peaks = Object.fromEntries(Object.keys(app.isolates).map((k) => [k, 0]));
  const before = {};
  for (const [label, isolate] of Object.entries(app.isolates)) before[label] = (await isolate.send("Runtime.getHeapUsage")).usedSize;
  let done = false;
  const samplers = Object.entries(app.isolates).map(async ([label, isolate]) => {
    while (!done) {
      try {
        const u = await isolate.send("Runtime.getHeapUsage");
        peaks[label] = Math.max(peaks[label], u.usedSize);
      } catch {
        return;
      }
      await sleep(20);
    }
  });
  try {
    return { value: await request(), peaks, before };
  } finally {
    done = true;
    await Promise.race([Promise.all(samplers), sleep(1000)]);
  }
}

// --- run --------------------------------------------------------------------------------------------
const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in SCENARIOS));
if (unknown.length) {
  console.error(`unknown scenario: ${unknown.join(" ")}\nscenarios: ${Object.keys(SCENARIOS).join(" ")}`);
  process.exit(2);
}
const names = wanted.length ? wanted : Object.keys(SCENARIOS);
console.log(`V8 flags per isolate: ${V8_FLAGS.join(" ") || "(none)"}; split layout (Worker, store object, stand-ins); MB = MiB`);
console.log(
  `${"scenario".padEnd(26)} ${"body MB".padStart(7)} ${"HTTP".padStart(4)} ${"answer".padEnd(34)} ${"wall s".padStart(6)} ${"worker MB".padStart(11)} ${"object MB".padStart(11)}`,
);
const started = performance.now();
let app = null;
let failures = 0;
for (const name of names) {
  const { expect, request } = SCENARIOS[name];
  let line;
  try {
    app ??= await start();
    const store = await app.newStore();
    const { path, body, headers } = request(store);
    const bytes = Buffer.byteLength(body);
    const t0 = performance.now();
    let answer;
    let peaks = {};
    let before = {};
    try {
      const run = await sampled(app, () =>
        Promise.race([
          app.call("POST", path, body, { ...app.apiKeyHeader, ...headers }),
          sleep(TIMEOUT_MS).then(() => {
            throw new Error(`no answer in ${TIMEOUT_MS / 1000} s`);
          }),
        ]),
      );
      answer = run.value;
      peaks = run.peaks;
      before = run.before;
    } catch (err) {
      answer = { status: 0, text: String(err.message ?? err) };
    }
    const wall = ((performance.now() - t0) / 1000).toFixed(1);
    const what = answer.json?.results
      ? `${answer.json.results.upserted} up, ${answer.json.results.deleted} del, ${answer.json.results.failed} failed ${[...new Set((answer.json.errors ?? []).map((e) => e.code))].join(",")}`
      : (answer.json?.error?.code ?? answer.text.replace(/\s+/g, " ").slice(0, 60));
    let health;
    try {
      health = (await app.call("GET", "/health")).status;
    } catch (err) {
      health = `none (${err.message})`;
    }
    const ok = Math.floor(answer.status / 100) === expect && health === 200;
    if (!ok) failures++;
    line = [
      name.padEnd(26),
      mb(bytes).padStart(7),
      String(answer.status).padStart(4),
      what.slice(0, 34).padEnd(34),
      wall.padStart(6),
      (peaks.worker ? `${mb(before.worker)}->${mb(peaks.worker)}` : "-").padStart(11),
      (peaks.object ? `${mb(before.object)}->${mb(peaks.object)}` : "-").padStart(11),
      ok ? "" : ` FAILED: expected ${expect}xx, /health ${health}`,
    ].join(" ");
    if (!ok) {
      await stopApp(app);
      app = null;
    }
  } catch (err) {
    failures++;
    line = `${name.padEnd(26)} FAILED: ${err.message}`;
    await stopApp(app);
    app = null;
  }
  console.log(line);
}
await stopApp(app);
console.log(`${names.length - failures} passed, ${failures} failed (${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exit(failures ? 1 : 0);
