// The two ways the bench reaches the service: Miniflare from this process (the bench build, with
// its counters, D1 meta and profile routes), or the real dev server over HTTP (`npm run dev`:
// wrangler dev with the dev stand-ins, its own local state in a temporary folder, free ports).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { devVar, startDevServer, stopDevServer } from "../../scripts/dev-server.mjs";
import { schemaStatements } from "../schema.mjs";

/** pids of the live processes below `rootPid` (any depth) whose command name is `name`. */
function descendants(rootPid, name) {
  const parentOf = new Map();
  const commOf = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      commOf.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parentOf.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const below = (pid) => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === rootPid) return true;
    return false;
  };
  return [...commOf].filter(([pid, comm]) => comm === name && below(pid)).map(([pid]) => pid);
}

/** Resident memory of these processes together, in MB. */
export function rssMb(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

/** CPU time (user and system) these processes have used so far, in ms (clock ticks of 10 ms). */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15 of stat
    } catch {
      /* gone */
    }
  }
  return ticks * 10;
}

function caller(fetchImpl, base) {
  return async (method, path, body, headers = {}) => {
    const res = await fetchImpl(`${base}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The bench build (the bench entry, BenchVectorStoreSync) in Miniflare, schema applied. */
export async function miniflareTarget({ scriptPath, admin }) {
  const mf = new Miniflare({
    name: "bench",
    modules: true,
    scriptPath,
    compatibilityDate: "2026-05-03",
    // The catalog and ledger shard 0 in one database, as a deploy with one database has them.
    d1Databases: { DB: "DB", LEDGER_0: "DB" },
    kvNamespaces: ["API_KEYS"],
    durableObjects: {
      LOCAL_VECTOR_STORE: { className: "LocalVectorStore", useSQLite: true },
      STORE_SYNC: { className: "BenchVectorStoreSync", useSQLite: true },
    },
    serviceBindings: {
      AI: { name: "bench", entrypoint: "LocalEmbedder" },
      VECTORIZE: { name: "bench", entrypoint: "LocalVectorIndex" },
    },
    ratelimits: {
      SYNC_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
      SEARCH_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
    },
    bindings: {
      ADMIN_TOKEN: admin,
      MAX_BODY_BYTES: String(64 * 1024 * 1024),
      EMBEDDING_MODEL: "@cf/baai/bge-base-en-v1.5",
      EMBEDDING_DIMENSIONS: "768",
    },
  });
  await mf.ready;
  const db = await mf.getD1Database("DB");
  for (const sql of schemaStatements()) await db.prepare(sql).run();
  return {
    mode: "miniflare",
    admin,
    db,
    instrumented: true,
    call: caller((url, init) => mf.dispatchFetch(url, init), "http://bench.local"),
    workerdPids: () => descendants(process.pid, "workerd"),
    stop: () => mf.dispose(),
  };
}

/**
 * The real dev server (startDevServer: wrangler dev --env dev) with its own local state in a
 * temporary folder (dev.mjs applies the migrations and seeds the state it serves); the admin token
 * is the dev environment's. `stop()` stops it (SIGKILL after 20 s), then removes the state.
 */
export async function httpTarget({ stateParent }) {
  const state = mkdtempSync(join(stateParent, "http-state-"));
  const server = await startDevServer({ persistTo: state });
  return {
    mode: "http",
    admin: devVar("ADMIN_TOKEN"),
    db: null,
    instrumented: false,
    call: caller(fetch, server.base),
    workerdPids: () => descendants(server.child.pid, "workerd"),
    stop: async () => {
      await stopDevServer(server, { graceMs: 20_000 });
      rmSync(state, { recursive: true, force: true });
    },
  };
}
