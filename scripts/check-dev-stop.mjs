#!/usr/bin/env node
// `npm run check:dev-stop [-- --port N] [-- scenario...]`: starts `npm run dev` once per way of
// stopping it, waits for /health, stops it that way, and checks that within 15 s no process of
// that run (npm, dev.mjs, wrangler, workerd, esbuild) is left and the port is closed.
// Linux only (reads /proc). Not part of `npm test`, which runs inside workerd.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const portAt = argv.indexOf("--port");
const port = portAt >= 0 ? Number(argv.splice(portAt, 2)[1]) : 8795;
const STOP_LIMIT_MS = 15_000;
const START_LIMIT_MS = 90_000;

/** Ways of stopping the server: which process gets which signal. */
const scenarios = {
  "sigterm-npm": { target: "npm", signal: "SIGTERM" },
  "sigint-npm": { target: "npm", signal: "SIGINT" },
  "sighup-npm": { target: "npm", signal: "SIGHUP" },
  "sigkill-npm": { target: "npm", signal: "SIGKILL" }, // the parent dies without a word
  "sigterm-devscript": { target: "dev.mjs", signal: "SIGTERM" },
  "sigint-devscript": { target: "dev.mjs", signal: "SIGINT" },
  "ctrl-c-terminal": { target: "terminal", signal: "SIGINT" }, // ^C typed into a pseudo-terminal
};
const chosen = argv.length > 0 ? argv : Object.keys(scenarios);
for (const name of chosen) if (!scenarios[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);

if (!existsSync("/proc/self/stat")) {
  console.error("check:dev-stop reads /proc: Linux only");
  process.exit(2);
}

function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { pid, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19], cmd };
  } catch {
    return null;
  }
}

function allProcs() {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map((p) => readProc(Number(p)))
    .filter(Boolean);
}

/** rootPid and everything below it, now. */
function descendants(rootPid) {
  const procs = allProcs();
  const found = new Map();
  const top = procs.find((p) => p.pid === rootPid);
  if (top) found.set(top.pid, top);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p);
        grew = true;
      }
  }
  return [...found.values()];
}

/** Still running: same pid and start time, and not a zombie. */
function alive(p) {
  const now = readProc(p.pid);
  return now !== null && now.start === p.start && now.state !== "Z";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function healthy() {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

const logDir = mkdtempSync(join(tmpdir(), "check-dev-stop-"));

async function runScenario(name) {
  const { target, signal } = scenarios[name];
  if (await healthy()) throw new Error(`port ${port} already answers /health: stop that server first`);
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, "w");
  const devCmd = `npm run dev -- --port ${port}`;
  // Own session and group, so whatever happens this run can be found and cleaned up.
  const top =
    target === "terminal"
      ? spawn("script", ["-q", "-f", "-e", "-c", devCmd, "/dev/null"], { cwd: root, stdio: ["pipe", log, log], detached: true })
      : spawn("npm", ["run", "dev", "--", "--port", String(port)], { cwd: root, stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  let topExitedAt = null;
  top.on("exit", () => {
    topExitedAt = Date.now();
  });
  const seen = new Map();
  // The run's processes: top's descendants, and anything in their process groups (a process whose
  // parent died is re-parented, but keeps its group; every group here was made by this run).
  const track = () => {
    for (const p of descendants(top.pid)) if (!seen.has(p.pid)) seen.set(p.pid, p);
    const groups = new Set([...seen.values()].map((p) => p.pgrp));
    for (const p of allProcs()) if (groups.has(p.pgrp) && p.state !== "Z" && !seen.has(p.pid)) seen.set(p.pid, p);
  };
  const cleanup = () => {
    track();
    for (const p of seen.values())
      if (alive(p)) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
  };
  try {
    const startDeadline = Date.now() + START_LIMIT_MS;
    while (!(await healthy())) {
      if (topExitedAt !== null) throw new Error(`npm run dev exited before answering; see ${logFile}`);
      if (Date.now() > startDeadline) throw new Error(`no /health within ${START_LIMIT_MS / 1000} s; see ${logFile}`);
      await sleep(300);
    }
    track();
    const procs = () => [...seen.values()];
    const npm = procs().find((p) => /(^|\/)npm( |$)|npm-cli\.js/.test(p.cmd));
    const devScript = procs().find((p) => p.cmd.includes("scripts/dev.mjs"));
    if (!npm || !devScript)
      throw new Error(
        `could not find npm / dev.mjs among ${procs()
          .map((p) => p.cmd)
          .join(" | ")}`,
      );

    const sentAt = Date.now();
    if (target === "terminal") top.stdin.write("\x03");
    else process.kill(target === "npm" ? npm.pid : devScript.pid, signal);

    let goneAt = null;
    while (Date.now() - sentAt < STOP_LIMIT_MS) {
      await sleep(100);
      track();
      if (procs().every((p) => !alive(p)) && !(await healthy())) {
        goneAt = Date.now();
        break;
      }
    }
    const left = procs().filter(alive);
    if (goneAt === null) {
      return {
        name,
        ok: false,
        detail:
          `still running after ${STOP_LIMIT_MS / 1000} s: ` +
          left.map((p) => `${p.pid} ${p.cmd.slice(0, 90)}`).join("; ") +
          ` (log: ${logFile})`,
      };
    }
    const topNote =
      target === "terminal"
        ? ""
        : topExitedAt !== null && topExitedAt < goneAt - 150
          ? `; npm exited ${goneAt - topExitedAt} ms before the last process`
          : "";
    return { name, ok: true, detail: `all ${procs().length} processes gone ${goneAt - sentAt} ms after ${signal} to ${target}${topNote}` };
  } finally {
    cleanup();
    if (target === "terminal" && top.stdin.writable) top.stdin.end();
    // The port must be free before the next scenario starts.
    for (let i = 0; i < 50 && (await healthy()); i++) await sleep(100);
  }
}

let failed = 0;
for (const name of chosen) {
  let result;
  try {
    result = await runScenario(name);
  } catch (err) {
    result = { name, ok: false, detail: err.message };
  }
  if (!result.ok) failed += 1;
  console.log(`${result.ok ? "ok  " : "FAIL"} ${result.name}: ${result.detail}`);
}
console.log(
  failed === 0 ? `all ${chosen.length} ways of stopping npm run dev leave nothing running` : `${failed} of ${chosen.length} failed`,
);
process.exit(failed === 0 ? 0 : 1);
