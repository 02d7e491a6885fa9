// What the memory measurement (npm run memory: careful peaks) and the memory check (npm run
// memory:check: survival under a heap cap) share: the memory build of the dev worker in Miniflare
// in one of two layouts, an admin key and stores, and a V8 inspector session on each isolate.
//
// Each worker's isolate is one inspector target, "core:user:<name>", on the inspector port workerd
// serves on loopback (Miniflare's `inspectorPort`); GET /json lists them.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import WebSocket from "ws"; // Miniflare's own dependency (Node 20 has no global WebSocket)
import { freePort, sleep } from "../../scripts/dev-server.mjs";
import { schemaStatements } from "../schema.mjs";
import { WORKER_BUILD } from "../worker-build.mjs";

export { freePort, sleep };

const root = fileURLToPath(new URL("../..", import.meta.url));
export const MAX_BODY_BYTES = 20_971_520; // wrangler.toml, production and dev
export const ADMIN = "memory-admin-token";
export const ORG = "org_memory";
export const MiB = 2 ** 20;

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const alive = (pid) => {
  try {
    return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

/** The memory entry (the dev worker with MemoryVectorStoreSync and /__memory routes) bundled into .bench/<name>. */
export async function buildMemoryWorker(name) {
  const out = join(root, ".bench");
  mkdirSync(out, { recursive: true });
  const outfile = join(out, name);
  await build({ ...WORKER_BUILD, entryPoints: [join(root, "measure/memory/entry.ts")], outfile });
  return outfile;
}

/** One inspector session (a WebSocket to one isolate): send(method, params) resolves with the result. */
export async function inspector(port, targetId) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${targetId}`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const pending = new Map();
  let nextId = 0;
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    const entry = pending.get(msg.id);
    if (!entry) return;
    pending.delete(msg.id);
    if (msg.error) entry.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else entry.resolve(msg.result);
  });
  const fail = () => {
    for (const { reject } of pending.values()) reject(new Error("inspector closed"));
    pending.clear();
  };
  ws.on("close", fail);
  ws.on("error", fail);
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      if (ws.readyState !== WebSocket.OPEN) return reject(new Error("inspector closed"));
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.terminate() };
}

/**
 * shared (as the bench and `npm run dev`): one worker holds the app, its Durable Object and the
 * stand-ins (one isolate). split (as production): the Durable Object in a worker (isolate) of its
 * own; the stand-ins in a third.
 */
export const WORKERS = { shared: { all: "memory" }, split: { worker: "memory", do: "memory-do", standins: "memory-standins" } };

function workerOptions(layout, scriptPath) {
  const base = {
    modules: true,
    scriptPath,
    compatibilityDate: "2026-05-03",
    bindings: {
      ADMIN_TOKEN: ADMIN,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      EMBEDDING_MODEL: "@cf/baai/bge-base-en-v1.5",
      EMBEDDING_DIMENSIONS: "768",
    },
  };
  const standIns = layout === "shared" ? "memory" : "memory-standins";
  const app = {
    ...base,
    // The catalog and ledger shard 0 in one database, as a deploy with one database has them.
    d1Databases: { DB: "DB", LEDGER_0: "DB" },
    kvNamespaces: ["API_KEYS"],
    serviceBindings: { AI: { name: standIns, entrypoint: "LocalEmbedder" }, VECTORIZE: { name: standIns, entrypoint: "LocalVectorIndex" } },
    ratelimits: {
      SYNC_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
      SEARCH_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
    },
  };
  const storeSync = { className: "MemoryVectorStoreSync", useSQLite: true };
  const localIndex = { LOCAL_VECTOR_STORE: { className: "LocalVectorStore", useSQLite: true } };
  if (layout === "shared") return [{ ...app, name: "memory", durableObjects: { ...localIndex, STORE_SYNC: storeSync } }];
  return [
    { ...app, name: "memory", durableObjects: { STORE_SYNC: { className: "MemoryVectorStoreSync", scriptName: "memory-do" } } },
    { ...app, name: "memory-do", durableObjects: { STORE_SYNC: storeSync } },
    { ...base, name: "memory-standins", durableObjects: localIndex },
  ];
}

/**
 * Starts Miniflare on `scriptPath` in `layout`, applies the schema, makes an API key, and attaches
 * an inspector to each isolate of `isolates` ({ label: worker name }). Returns the app: `call`
 * (method, path, body, headers) -> { status, json, text }, `newStore()`, `apiKey`, `isolates`
 * ({ label: inspector session }), `pid` (workerd's) and `mf`.
 */
export async function startApp(layout, { scriptPath, isolates = WORKERS[layout] }) {
  const inspectorPort = await freePort();
  const mf = new Miniflare({ host: "127.0.0.1", inspectorPort, workers: workerOptions(layout, scriptPath) });
  const app = { mf, pid: null, isolates: {} };
  try {
    await mf.ready;
    app.pid =
      execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.includes("workerd"))
        .map((l) => Number(l.trim().split(/\s+/)[0]))
        .find(alive) ?? null;
    const db = await mf.getD1Database("DB", "memory");
    for (const sql of schemaStatements()) await db.prepare(sql).run();
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()).map((t) => t.id);
    for (const [label, worker] of Object.entries(isolates)) {
      if (!targets.includes(`core:user:${worker}`)) throw new Error(`no inspector target core:user:${worker} in ${targets.join(", ")}`);
      app.isolates[label] = await inspector(inspectorPort, `core:user:${worker}`);
    }
    app.call = async (method, path, body, headers = {}) => {
      const res = await mf.dispatchFetch(`http://memory.local${path}`, {
        method,
        headers: { "Content-Type": "application/json", ...headers },
        body: body === undefined || typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, json, text };
    };
    const admin = { Authorization: `Bearer ${ADMIN}` };
    const key = await app.call("POST", "/v1/admin/api-keys", { organization_id: ORG }, admin);
    if (key.status >= 300) throw new Error(`api key: ${key.status} ${key.text.slice(0, 200)}`);
    app.apiKey = key.json.api_key;
    let stores = 0;
    app.newStore = async () => {
      const res = await app.call(
        "POST",
        "/v1/admin/vector-stores",
        { organization_id: ORG, id: `vs_memory_${String(++stores).padStart(2, "0")}` },
        admin,
      );
      if (res.status >= 300) throw new Error(`vector store: ${res.status} ${res.text.slice(0, 200)}`);
      return res.json.id;
    };
    return app;
  } catch (err) {
    await stopApp(app);
    throw err;
  }
}

export async function stopApp(app) {
  for (const isolate of Object.values(app?.isolates ?? {}))
    try {
      isolate.close();
    } catch {
      /* closed */
    }
  try {
    await app?.mf.dispose();
  } catch {
    /* already gone */
  }
}

/** A sync request's envelope for `store` around `operations` (an object; `extra` fields before the operations). */
export const envelope = (store, operations, extra = {}) => ({
  organization_id: ORG,
  vector_store_id: store,
  sync_mode: "incremental",
  sync_timestamp: "2026-01-01T00:00:00Z",
  ...extra,
  operations,
});
