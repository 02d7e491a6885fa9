// The one way tools and tests start a real `npm run dev` (dev.mjs): on free ports, optionally
// with a local state of its own, resolved once GET /health answers, stopped with SIGTERM (dev.mjs
// then stops wrangler's whole process group; SIGKILL if it lingers). Without `persistTo` it uses
// the local state under .wrangler/state, which every other dev server shares. Also the pieces the
// callers share around it: the checkout's root, free ports, a child with its last output lines,
// and the dev variables (.dev.vars, else .dev.vars.example).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A variable of the dev environment: .dev.vars, which dev.mjs creates from .dev.vars.example when missing. */
export function devVar(name) {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const m = new RegExp(`^\\s*${name}\\s*=\\s*"?(.*?)"?\\s*$`, "m").exec(readFileSync(path, "utf8"));
    if (m) return m[1];
  }
  throw new Error(`${name} is in neither .dev.vars nor .dev.vars.example`);
}

/**
 * A child with its last `keepLines` lines of output kept and a promise of its exit code.
 * `ownGroup`: its own process group, so that stopChild also ends what it started and left behind
 * (what dev.mjs starts while it prepares the local databases is not stopped by it when that fails).
 */
export function spawnKept(command, args, { ownGroup = false, keepLines = 200, env } = {}) {
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: ownGroup, env });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split("\n"));
    lines.splice(0, Math.max(0, lines.length - keepLines));
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, ownGroup, output: () => lines.join("\n") };
}

const running = (proc) => proc.child.exitCode === null && proc.child.signalCode === null;

/** SIGTERM, SIGKILL after `graceMs`; then the rest of its process group when it has its own. */
export async function stopChild(proc, { graceMs = 15_000 } = {}) {
  if (running(proc)) {
    proc.child.kill("SIGTERM");
    const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      proc.child.kill("SIGKILL"); // dev.mjs's exit handler still SIGKILLs wrangler's group
      await proc.exited;
    }
  }
  if (proc.ownGroup)
    try {
      process.kill(-proc.child.pid, "SIGKILL");
    } catch {
      /* the group is gone */
    }
}

/** Resolves once `url` answers 2xx; throws when `proc` exits first or `limitMs` passes. */
export async function waitFor(url, proc, { what = url, limitMs = 90_000 } = {}) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && running(proc)) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(250);
  }
  throw new Error(`${what} did not answer ${url} (${running(proc) ? "timed out" : "it exited"}):\n${proc.output()}`);
}

async function startOnce({ persistTo, inspectorPort, port, ownGroup, keepLines, limitMs }) {
  const devPort = port ?? (await freePort());
  const args = ["scripts/dev.mjs", "--port", String(devPort), "--inspector-port", String(inspectorPort ?? (await freePort()))];
  if (persistTo !== undefined) args.push("--persist-to", persistTo);
  const proc = spawnKept(process.execPath, args, { ownGroup, keepLines });
  const server = { ...proc, port: devPort, base: `http://127.0.0.1:${devPort}` };
  try {
    await waitFor(`${server.base}/health`, proc, { what: "npm run dev", limitMs });
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
  return server;
}

/**
 * `node scripts/dev.mjs --port <free> --inspector-port <free> [--persist-to <dir>]`; resolves once
 * /health answers. Another dev server preparing its local D1 at the same moment (SQLITE_BUSY while
 * dev.mjs migrates its databases side by side) can make a start fail once under load: one retry,
 * on a fresh state directory when it has its own.
 */
export async function startDevServer({ persistTo, inspectorPort, port, ownGroup = false, keepLines = 200, limitMs = 90_000 } = {}) {
  try {
    return await startOnce({ persistTo, inspectorPort, port, ownGroup, keepLines, limitMs });
  } catch (err) {
    console.warn(`retrying npm run dev once: ${String(err).slice(-500)}`);
    // Inside the first state directory, so that whoever removes that removes this too.
    const retryState = persistTo === undefined ? undefined : join(persistTo, "retry");
    return await startOnce({ persistTo: retryState, inspectorPort, port, ownGroup, keepLines, limitMs });
  }
}

/** Stops a server of startDevServer: SIGTERM to dev.mjs, which stops wrangler's whole process group first. */
export async function stopDevServer(server, options) {
  await stopChild(server, options);
}
