#!/usr/bin/env node
// npm run load: starts `npm run dev` on a loopback port, then drives it with concurrent clients:
// small syncs from 100 connections across 10 organizations (past their rate limits), and five
// 5000-operation syncs at the same time. Reports throughput, latency and status codes, then
// checks with the reconciliation endpoint that the ledger and the index agree.
import autocannon from "autocannon";
import { devVar, startDevServer } from "../../scripts/dev-server.mjs";

const PORT = Number(process.env.LOAD_PORT ?? 8797);
const ORGS = 10;
const SMALL_REQUESTS = Number(process.env.LOAD_REQUESTS ?? 1200); // 120 per organization: 100 pass, the rest are 429
const run = Date.now().toString(36);

// Its own process group (ended whole on exit), on the shared local state; every line of its log
// kept: the report counts the worker's upstream failures and runtime messages in it.
const dev = await startDevServer({ port: PORT, ownGroup: true, keepLines: Infinity, limitMs: 60_000 });
const devLog = () => dev.output();
const stop = () => {
  try {
    process.kill(-dev.child.pid, "SIGTERM");
  } catch {
    /* gone */
  }
};
process.on("exit", stop);
process.on("SIGINT", () => process.exit(130));

const adminToken = devVar("ADMIN_TOKEN");
const BASE = dev.base;
async function api(method, path, body, headers = {}) {
  const res = await fetch(BASE + path, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
async function tenant(i) {
  const org = `org_load_${run}_${i}`;
  const admin = { Authorization: `Bearer ${adminToken}` };
  const store = (await api("POST", "/v1/admin/vector-stores", { organization_id: org }, admin)).body.id;
  const key = (await api("POST", "/v1/admin/api-keys", { organization_id: org }, admin)).body.api_key;
  return { org, store, key };
}
const record = (i) => ({ title: `load record ${i}`, status: ["open", "done"][i % 2], body: `text of record ${i} `.repeat(40) });

const small = await Promise.all(Array.from({ length: ORGS }, (_, i) => tenant(i)));
const big = await Promise.all(Array.from({ length: Number(process.env.LOAD_BIG ?? 5) }, (_, i) => tenant(100 + i)));

// The local rate limiter counts fixed windows of the wall clock's minutes. Start inside a fresh one
// when the run might otherwise cross a boundary, so that exactly 100 syncs per organization pass.
const intoWindow = Date.now() % 60_000;
if (intoWindow > 20_000) {
  console.log(`waiting ${Math.ceil((60_000 - intoWindow) / 1000)} s for a fresh rate-limit window`);
  await new Promise((r) => setTimeout(r, 60_000 - intoWindow + 200));
}
const windowOf = (ms) => Math.floor(ms / 60_000);
const firstWindow = windowOf(Date.now());

// A GET /health every 100 ms throughout: how long does a cheap request wait while syncs run?
const healthMs = [];
let loadRunning = true;
const healthProbe = (async () => {
  while (loadRunning) {
    const started = performance.now();
    try {
      await fetch(`${BASE}/health`);
      healthMs.push(performance.now() - started);
    } catch {
      healthMs.push(Infinity);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();

let n = 0;
const unexpectedBodies = [];
const smallRun = autocannon({
  url: BASE,
  connections: 100,
  amount: SMALL_REQUESTS,
  timeout: 60,
  requests: [
    {
      method: "POST",
      path: "/v1/connectors/pipeline/sync",
      setupRequest: (req) => {
        const i = n++;
        const t = small[i % ORGS];
        return {
          ...req,
          headers: { "Content-Type": "application/json", "X-API-Key": t.key },
          body: JSON.stringify({
            organization_id: t.org,
            vector_store_id: t.store,
            sync_mode: "incremental",
            sync_timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
            operations: Array.from({ length: 5 }, (_, k) => ({
              action: "upsert",
              id: `r${i}_${k}`,
              namespace: "tasks",
              data: record(i * 5 + k),
            })),
          }),
        };
      },
      onResponse: (status, body) => {
        if (status !== 200 && status !== 429 && unexpectedBodies.length < 3)
          unexpectedBodies.push(`${status} ${String(body).slice(0, 300)}`);
      },
    },
  ],
});
const bigStarted = performance.now();
const bigRuns = big.map(async (t, b) => {
  const started = performance.now();
  const res = await api(
    "POST",
    "/v1/connectors/pipeline/sync",
    {
      organization_id: t.org,
      vector_store_id: t.store,
      sync_mode: "incremental",
      sync_timestamp: "2026-01-01T00:00:00Z",
      operations: Array.from({ length: 5000 }, (_, k) => ({
        action: "upsert",
        id: `big${k}`,
        namespace: "tasks",
        data: record(b * 5000 + k),
      })),
    },
    { "X-API-Key": t.key },
  );
  return { status: res.status, ms: Math.round(performance.now() - started), results: res.body.results ?? res.body.error };
});
const [smallResult, bigResults] = await Promise.all([smallRun, Promise.all(bigRuns)]);
const bigMs = Math.round(performance.now() - bigStarted);
const windows = windowOf(Date.now()) - firstWindow + 1;
loadRunning = false;
await healthProbe;
healthMs.sort((a, b) => a - b);
const percentile = (p) => Math.round(healthMs[Math.min(healthMs.length - 1, Math.floor(healthMs.length * p))]);

// The ledger and the index agree: reconcile every store touched (it reports what it had to fix).
const admin = { Authorization: `Bearer ${adminToken}` };
const reconciled = [];
for (const t of [...small, ...big]) {
  let cursor;
  const total = { checked: 0, missing: 0, stale_deleted: 0, failed: 0 };
  do {
    const r = (await api("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, { limit: 2000, ...(cursor ? { cursor } : {}) }, admin))
      .body;
    for (const k of Object.keys(total)) total[k] += r[k];
    cursor = r.next_cursor;
  } while (cursor);
  reconciled.push(total);
}
stop();

const codes = {};
for (const [code, count] of Object.entries(smallResult.statusCodeStats ?? {})) codes[code] = count.count;
const sum = (k) => reconciled.reduce((s, r) => s + r[k], 0);
const report = {
  small_syncs: {
    requests: smallResult.requests.total,
    connections: 100,
    organizations: ORGS,
    throughput_rps: Math.round(smallResult.requests.average),
    latency_ms: { p50: smallResult.latency.p50, p99: smallResult.latency.p99, max: smallResult.latency.max },
    status_codes: codes,
    errors: smallResult.errors,
    timeouts: smallResult.timeouts,
    non2xx: smallResult.non2xx,
    duration_s: smallResult.duration,
  },
  health_during_load: { requests: healthMs.length, p50_ms: percentile(0.5), p99_ms: percentile(0.99), max_ms: percentile(1) },
  rate_limit_windows: windows,
  big_syncs: { concurrent: big.length, operations_each: 5000, wall_ms: bigMs, each: bigResults },
  agreement: { vectors_checked: sum("checked"), missing: sum("missing"), stale: sum("stale_deleted"), failed: sum("failed") },
};
const unexpected = Object.keys(codes).filter((c) => c !== "200" && c !== "429");
console.log(
  `small syncs: ${report.small_syncs.requests} requests from 100 connections over ${ORGS} organizations in ${report.small_syncs.duration_s} s`,
);
console.log(
  `  throughput ${report.small_syncs.throughput_rps} req/s, latency p50 ${report.small_syncs.latency_ms.p50} ms, p99 ${report.small_syncs.latency_ms.p99} ms`,
);
console.log(`  status codes ${JSON.stringify(codes)}, errors ${smallResult.errors}, timeouts ${smallResult.timeouts}`);
console.log(
  `  health checks meanwhile: ${healthMs.length}, p50 ${report.health_during_load.p50_ms} ms, p99 ${report.health_during_load.p99_ms} ms, max ${report.health_during_load.max_ms} ms`,
);
console.log(
  `big syncs: ${big.length} x 5000 operations at the same time: ${bigResults.map((r) => `${r.status} in ${r.ms} ms`).join(", ")}`,
);
console.log(
  `ledger vs index: ${report.agreement.vectors_checked} vectors checked, ${report.agreement.missing} missing, ${report.agreement.stale} stale`,
);
const runtime = devLog()
  .split("\n")
  .filter((l) => /memory|exceeded|restart|overloaded|fatal|ERROR|Error:/.test(l) && !/Request.cf|ENOTFOUND|getaddrinfo/.test(l));
if (runtime.length)
  console.log(
    `runtime messages (${runtime.length}), e.g.:\n  ${runtime
      .slice(0, 3)
      .map((l) => l.slice(0, 300))
      .join("\n  ")}`,
  );
if (unexpectedBodies.length) console.log(`unexpected answers, e.g.:\n  ${unexpectedBodies.join("\n  ")}`);
const upstream = devLog()
  .split("\n")
  .filter((l) => l.includes("upstream_failure"));
if (upstream.length) console.log(`upstream failures logged by the worker: ${upstream.length}, e.g. ${upstream[0].slice(0, 400)}`);
console.log(JSON.stringify(report));
// Within one rate-limit window each organization gets exactly 100 syncs through; a run that
// spans two windows may get up to twice that.
const passed = codes["200"] ?? 0;
const expectedPassed = Array.from({ length: ORGS }, (_, o) =>
  Math.min(100, Math.floor(SMALL_REQUESTS / ORGS) + (o < SMALL_REQUESTS % ORGS ? 1 : 0)),
).reduce((a, b) => a + b, 0);
const rateLimitOk = windows === 1 ? passed === expectedPassed : passed >= expectedPassed && passed <= 100 * ORGS * windows;
if (!rateLimitOk)
  console.log(
    `rate limit: ${passed} small syncs passed over ${windows} window(s), expected ${windows === 1 ? expectedPassed : `${expectedPassed} to ${100 * ORGS * windows}`}`,
  );
const ok =
  unexpected.length === 0 &&
  smallResult.errors === 0 &&
  rateLimitOk &&
  bigResults.every((r) => r.status === 200) &&
  report.agreement.missing === 0 &&
  report.agreement.stale === 0;
process.exit(ok ? 0 : 1);
