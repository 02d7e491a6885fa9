// `unified-sync push` as a person sees it: the CLI runs under a pseudo-terminal (`script` from
// util-linux, 100x30), against a real `npm run dev` started by this file, and its output (stdout
// and stderr, as the terminal got them) is rendered by a terminal emulator (@xterm/headless);
// the tests assert the final screen.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import xterm from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, newTenant, root } from "./cli-helpers";
import { type DevServer, startDevServer, stopDevServer } from "../scripts/dev-server.mjs";

const COLS = 100;
const ROWS = 30;
const NS = "items";

let server: DevServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cli-terminal-test-"));
  server = await startDevServer();
});

afterAll(async () => {
  if (server) await stopDevServer(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `unified-sync push <args>` in a 100x30 pseudo-terminal: what the terminal received, and the exit code. */
function runInTerminal(args: string[], key: string): Promise<{ code: number | null; raw: string }> {
  const command = `stty cols ${COLS} rows ${ROWS}; exec ${[process.execPath, CLI, "push", ...args].map(quote).join(" ")}`;
  const env: NodeJS.ProcessEnv = { ...process.env, UNIFIED_SYNC_API_KEY: key, TERM: "xterm-256color" };
  delete env.UNIFIED_SYNC_URL;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let raw = "";
  child.stdout!.on("data", (c: Buffer) => {
    raw += c.toString("utf8");
  });
  child.stderr!.on("data", (c: Buffer) => {
    raw += c.toString("utf8");
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, raw })));
}

/**
 * The screen after `raw`: the rows of the viewport, and every line from the top of the
 * scrollback; a line the terminal wrapped at 100 columns is joined back into one.
 */
async function render(raw: string): Promise<{ screen: string[]; all: string[] }> {
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, scrollback: 1000, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(raw, resolve));
  const buffer = term.buffer.active;
  const logical = (from: number, to: number) => {
    const out: string[] = [];
    for (let i = from; i < to; i++) {
      const row = buffer.getLine(i);
      const text = row?.translateToString(true) ?? "";
      if (row?.isWrapped && out.length > 0) out[out.length - 1] += text;
      else out.push(text);
    }
    return out;
  };
  const screen = logical(buffer.viewportY, buffer.viewportY + ROWS);
  const all = logical(0, buffer.length);
  term.dispose();
  return { screen, all };
}

describe("unified-sync push in a terminal", () => {
  it("keeps every part's line, prints the summary below them, and leaves no progress bar; hostile ids print escaped", async () => {
    const t = await newTenant(server.base, "tty");
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      lines.push(JSON.stringify({ action: "upsert", id: `r${i}`, namespace: NS, data: { title: `Item ${i}`, n: i } }));
    }
    // An id that would clear the screen and retitle the window if printed raw (its data is empty:
    // the server fails it, so the summary lists it).
    lines[6] = JSON.stringify({ action: "upsert", id: "\u001b[2J\u001b[H\u001b]0;owned\u0007x\u009b1m", namespace: NS, data: {} });
    const file = join(dir, "tty.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);

    const { code, raw } = await runInTerminal([file, "--url", server.base, "--org", t.org, "--store", t.store], t.key);
    expect(code, raw).toBe(2);
    const { screen, all } = await render(raw);
    const text = screen.join("\n");

    // Every frame of the status line made sense: no NaN or infinite ETA, no "1 parts".
    const frames = raw.split("\r").filter((f) => f.includes("records/s"));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f).not.toMatch(/NaN|NFs|Infinity|\b1 parts\b|\b1 records\b/);
    expect(frames[0]).toMatch(/0% \| 0 records \| 0 parts \| 0 records\/s \| ETA --/);

    // The three parts' lines, then the summary under them, in that order, nothing overwritten.
    const at = (re: RegExp) => all.findIndex((l) => re.test(l));
    const order = [
      at(/^part 1: 5,000 operations: upserted 4,999, deleted 0, unchanged 0, stale 0, failed 1 \[/),
      at(/^part 2: 5,000 operations: upserted 5,000, /),
      at(/^part 3: 2,000 operations: upserted 2,000, /),
      at(/^namespace +upserted +deleted +unchanged +stale +failed +skipped$/),
      at(/^items +11,999 +0 +0 +0 +1 +0$/),
      at(/^total +11,999 +0 +0 +0 +1 +0$/),
      at(/^incremental to vs_\S+: 12,000 records in 3 parts, /),
      at(/^first failed operations \(1 in all\):$/),
    ];
    expect(order, text).not.toContain(-1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The hostile id as inert text; the screen was not cleared (the part lines are still on it).
    expect(text).toContain("  line 7 items/\\x1b[2J\\x1b[H\\x1b]0;owned\\x07x\\x9b1m: INVALID_OPERATION: ");
    expect(text).toMatch(/^part 1: /m);
    // No progress bar left: nothing after the summary, no bar, no ETA anywhere on the screen.
    expect(text).not.toMatch(/ETA|\u2588|\u2591|records\/s \|/);
    const last = screen.map((l, i) => (l.trim() ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(screen[last]).toMatch(/^ {2}line 7 items\/.*: INVALID_OPERATION: data must be a non-empty object$/);
  });
});
