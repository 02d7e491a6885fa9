#!/usr/bin/env node
// `npm run dev`: offline development server with no Cloudflare login.
// 1. creates .dev.vars from .dev.vars.example when missing;
// 2. applies the schema migrations (migrations/) to the local D1 and seeds org_abc123 / vs_demo /
//    DEV_API_KEY;
// 3. runs `wrangler dev --env dev` on 127.0.0.1:8787 (extra arguments, e.g. --port N, pass through).
// Stopping: SIGINT/SIGTERM/SIGHUP to npm or to this script, Ctrl-C, or the death of the parent
// stop wrangler's whole process group; this script exits only once that group is gone (SIGKILL
// after 5 s). package.json runs it as `exec node scripts/dev.mjs`: without the exec, npm forwards
// its SIGTERM/SIGINT to the `sh -c` in between, which died of SIGTERM (leaving this script and
// wrangler orphaned) and sat out SIGINT (leaving everything running). `npm run check:dev-stop`
// checks every way of stopping.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import "./docs-assets.mjs"; // copies Swagger UI's files into assets/ (wrangler.toml [assets]) for /docs

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const extraArgs = process.argv.slice(2);

function readVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

/** Runs wrangler, without blocking: the local databases are prepared side by side (each run takes seconds). */
function run(args, { quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(wrangler, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) return resolve(true);
      if (quiet) return resolve(false);
      process.stderr.write(output);
      reject(new Error(`wrangler ${args.join(" ")} failed (${code})`));
    });
  });
}

const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
  copyFileSync(join(root, ".dev.vars.example"), devVars);
  console.log("created .dev.vars from .dev.vars.example");
}
const vars = readVars(devVars);
if (!vars.DEV_API_KEY) throw new Error(".dev.vars has no DEV_API_KEY");

const org = "org_abc123";
const store = "vs_demo";
// The local state the server will use: the seeding below goes to the same one (--persist-to).
const persistAt = extraArgs.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persistArgs =
  persistAt < 0 ? [] : extraArgs[persistAt].includes("=") ? [extraArgs[persistAt]] : extraArgs.slice(persistAt, persistAt + 2);
// The schema: the numbered migrations not yet applied to each local database, as a deploy applies
// them (docs/deploy.md): the catalog (DB), then its seed; beside it the ledger shards of the dev
// environment (wrangler.toml [env.dev]), fresh databases of their own that take every migration
// (each database of the service has the whole schema); and the key in KV.
async function prepareCatalog() {
  // A local state made before migrations existed (schema.sql applied at every start) takes 0001,
  // its baseline, as a no-op and is converted by the later ones.
  const migrate = ["d1", "migrations", "apply", "DB", "--local", "--env", "dev", ...persistArgs];
  if (!(await run(migrate, { quiet: true }))) {
    // A database made from today's schema.sql (the full schema, which the migrations test keeps
    // equal to all the migrations) and never migrated refuses 0001: record every migration as
    // applied to it, then apply again (which then fails as before for any other reason).
    const names = readdirSync(join(root, "migrations")).filter((name) => name.endsWith(".sql"));
    const adopt = `CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
INSERT INTO d1_migrations (name) SELECT value FROM json_each('${JSON.stringify(names.sort())}')
WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'record_state') AND NOT EXISTS (SELECT 1 FROM d1_migrations);`;
    await run(["d1", "execute", "DB", "--local", "--env", "dev", "--command", adopt, ...persistArgs]);
    await run(migrate);
  }
  await run(["d1", "execute", "DB", "--local", "--env", "dev", "--file", seedFile, ...persistArgs]);
}

const seedSql = `INSERT INTO vector_stores (id, organization_id, name, created_at, embedding_model, dimensions)
VALUES ('${store}', '${org}', 'Demo store', '${new Date().toISOString()}', '@cf/baai/bge-base-en-v1.5', 768)
ON CONFLICT (id) DO NOTHING;
`;
const tmp = mkdtempSync(join(tmpdir(), "sync-dev-"));
const seedFile = join(tmp, "seed.sql");
writeFileSync(seedFile, seedSql);

// KV holds only the key's SHA-256 (as the API-key check reads it), also for the development key.
const hash = createHash("sha256").update(vars.DEV_API_KEY).digest("hex");
const record = { key_id: "key_dev", organization_id: org, vector_store_ids: null, created_at: new Date().toISOString(), revoked: false };
const kvFile = join(tmp, "kv.json");
writeFileSync(
  kvFile,
  JSON.stringify([
    { key: `key:${hash}`, value: JSON.stringify(record) },
    { key: "keyid:key_dev", value: hash },
  ]),
);
const devConfig = readFileSync(join(root, "wrangler.toml"), "utf8").split(/^\[env\.dev\]$/m)[1] ?? "";
const shards = [...devConfig.matchAll(/^binding = "(LEDGER_\d+)"/gm)].map((m) => m[1]);
await Promise.all([
  prepareCatalog(),
  ...shards.map((shard) => run(["d1", "migrations", "apply", shard, "--local", "--env", "dev", ...persistArgs])),
  run(["kv", "bulk", "put", kvFile, "--binding", "API_KEYS", "--local", "--env", "dev", ...persistArgs]),
]);
console.log(`seeded ${org} / ${store} with the DEV_API_KEY from .dev.vars`);

const hasPort = extraArgs.some((a) => a === "--port" || a.startsWith("--port="));
const hasIp = extraArgs.some((a) => a === "--ip" || a.startsWith("--ip="));
const args = ["dev", "--env", "dev", ...(hasIp ? [] : ["--ip", "127.0.0.1"]), ...(hasPort ? [] : ["--port", "8787"]), ...extraArgs];
// Own process group (and session), so the whole of wrangler, workerd and esbuild can be signalled
// at once. Everything below makes sure that group dies with this script, whatever stops it.
// Offline, Miniflare's fetch of a real `Request.cf` object (from workers.cloudflare.com) fails and
// prints a DNS stack trace at every start: its placeholder object is what it falls back to anyway,
// so it is asked for directly. CLOUDFLARE_CF_FETCH_ENABLED=true in the environment turns the fetch back on.
const env = { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env };
const child = spawn(wrangler, args, { cwd: root, stdio: "inherit", detached: true, env });
const group = child.pid;
/** After a stop signal, how long wrangler gets to shut down before its group is killed. */
const STOP_TIMEOUT_MS = 5000;
const parentAtStart = process.ppid;

function signalGroup(signal) {
  try {
    process.kill(-group, signal);
  } catch {
    /* already gone */
  }
}

/** Live (non-zombie) members of the wrangler group; /proc on Linux, kill(-pgid, 0) elsewhere. */
function groupAlive() {
  if (existsSync("/proc/self/stat")) {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === group && state !== "Z") return true;
    }
    return false;
  }
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForGroup(ms) {
  const deadline = Date.now() + ms;
  while (groupAlive()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** The parent's pid now: process.ppid is read once at start-up in Node 20. */
function currentParent() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    try {
      process.kill(parentAtStart, 0);
      return parentAtStart;
    } catch {
      return 1;
    }
  }
}

let stopping = false;
/**
 * Stops the wrangler group (signal, wait, SIGKILL after STOP_TIMEOUT_MS) and only then exits:
 * with the signal that stopped us (re-raised, so `npm run dev` reports it the usual way), else
 * with `code`. Repeated signals (Ctrl-C reaches npm and this script, and npm forwards it too) are
 * ignored; the timeout does the escalation.
 */
async function shutdown(signal, code) {
  if (stopping) return;
  stopping = true;
  if (signal) signalGroup(signal);
  if (!(await waitForGroup(signal ? STOP_TIMEOUT_MS : 1000))) {
    if (signal) console.error(`wrangler did not stop within ${STOP_TIMEOUT_MS / 1000} s of ${signal}; killing it`);
    signalGroup("SIGKILL");
    await waitForGroup(2000);
  }
  if (signal) {
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    // Should the signal be blocked, exit anyway.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 15)), 500);
  } else {
    process.exit(code);
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => void shutdown(signal));
// npm forwards SIGINT and SIGTERM to this script, but not SIGHUP, and a SIGKILL'd npm forwards
// nothing: when the parent goes away (we are re-parented), stop as if told to.
setInterval(() => {
  if (currentParent() !== parentAtStart) void shutdown("SIGTERM");
}, 500).unref();
// wrangler exited by itself (a crash, or its [x] key): take down what it may have left, then exit.
child.on("exit", (code, signal) => void shutdown(null, code ?? (signal ? 1 : 0)));
// Last resort, should this script die of an exception: no waiting possible here.
process.on("exit", () => {
  if (groupAlive()) signalGroup("SIGKILL");
});
