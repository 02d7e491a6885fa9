// The two ways the bench reaches the service: Miniflare from this process (the bench build, with
// its counters, D1 meta and profile routes), or the real dev server over HTTP (`node scripts/dev.mjs`:
// wrangler dev with the dev stand-ins, its own local state in a temporary folder, free ports).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** The bench build (bench/bench-entry.ts) in Miniflare, schema applied. */
export async function miniflareTarget({ root, scriptPath, admin }) {
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
  const schema = readFileSync(join(root, "schema.sql"), "utf8")
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean);
  for (const sql of schema) await db.prepare(sql).run();
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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function readVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

/**
 * `node scripts/dev.mjs --port <free> --inspector-port <free> --persist-to <temp>`: the real dev
 * server (wrangler dev --env dev) with its own local state (dev.mjs applies the migrations and
 * seeds the state it serves). The admin token is the one in .dev.vars, which
 * dev.mjs creates from .dev.vars.example when missing. `stop()` sends SIGTERM to dev.mjs, which
 * stops wrangler's whole process group before it exits (SIGKILL after 20 s), then removes the state.
 */
export async function httpTarget({ root, stateParent }) {
  const state = mkdtempSync(join(stateParent, "http-state-"));
  const port = await freePort();
  const inspector = await freePort();
  const args = ["scripts/dev.mjs", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", state];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split("\n"));
    lines.splice(0, Math.max(0, lines.length - 100));
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    if (!gone) {
      child.kill("SIGTERM");
      if (!(await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]))) {
        child.kill("SIGKILL"); // dev.mjs's exit handler still SIGKILLs wrangler's group
        await exited;
      }
    }
    rmSync(state, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      /* not up yet */
    }
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`the dev server did not answer /health on ${base} (${gone ? "it exited" : "timed out"}):\n${lines.join("\n")}`);
    }
    await sleep(250);
  }
  const devVars = join(root, ".dev.vars");
  const admin = readVars(existsSync(devVars) ? devVars : join(root, ".dev.vars.example")).ADMIN_TOKEN;
  return {
    mode: "http",
    admin,
    db: null,
    instrumented: false,
    call: caller(fetch, base),
    workerdPids: () => descendants(child.pid, "workerd"),
    stop,
  };
}
