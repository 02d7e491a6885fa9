// `unified-sync push` against a real `npm run dev` started (and stopped) by this file: 12,000-line
// pushes as an incremental sync and as full_refresh runs, a server answering 429 and 503 for a
// while, and pushes killed after two parts and run again. Each scenario has its own organization,
// store and key (the local state is shared; rate limits count per organization).
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncClient } from "../src/client/index";
import { type FaultProxy, type Tenant, listRecordIds, listSyncs, newTenant, runCli, startCli, startFaultProxy, until } from "./cli-helpers";
import { type DevServer, freePort, startDevServer, stopDevServer } from "../scripts/dev-server.mjs";

const LINES = 12_000;
const NS = "items";

let server: DevServer;
let dir: string;
const proxies: FaultProxy[] = [];

/** 12,000 upserts in one namespace (ids r00000..r11999), minus `without`. */
function writeOps(name: string, without: (i: number) => boolean = () => false): string {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    if (without(i)) continue;
    out.push(
      JSON.stringify({
        action: "upsert",
        id: `r${String(i).padStart(5, "0")}`,
        namespace: NS,
        data: { title: `Item ${i}`, body: `Some text about item ${i}`, n: i },
      }),
    );
  }
  const path = join(dir, name);
  writeFileSync(path, `${out.join("\n")}\n`);
  return path;
}

const target = (t: Tenant, url: string) => ["--url", url, "--org", t.org, "--store", t.store, "--json"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cli-push-test-"));
  server = await startDevServer();
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  if (server) await stopDevServer(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("unified-sync push against npm run dev", () => {
  it("pushes 12,000 lines as an incremental sync in 3 parts; all 12,000 are in the ledger", async () => {
    const t = await newTenant(server.base, "incr");
    const file = writeOps("incremental.jsonl");
    const started = Date.now();
    const run = await runCli([file, ...target(t, server.base)], t.key);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      status: "ok",
      exit_code: 0,
      parts: 3,
      records_sent: LINES,
      results: { upserted: LINES, deleted: 0, unchanged: 0, failed: 0, stale: 0 },
      by_namespace: { [NS]: { upserted: LINES } },
    });
    console.log(`incremental push of ${LINES} records: ${Date.now() - started} ms (CLI: ${run.json.elapsed_ms} ms)`);
    const ids = await listRecordIds(server.base, t, NS);
    expect(ids.length).toBe(LINES);
    expect(new Set(ids).size).toBe(LINES);
    expect((await listSyncs(server.base, t)).length).toBe(3);
    // Nothing left behind: a finished push removes its state file.
    expect(existsSync(`${file}.unified-sync-state.json`)).toBe(false);
  });

  it("pushes 12,000 lines as one full_refresh run; a second run without 1,000 records removes exactly those; an empty run empties the namespace", async () => {
    const t = await newTenant(server.base, "full");
    const client = createSyncClient({ baseUrl: server.base, apiKey: t.key });
    const first = await runCli([writeOps("full-1.jsonl"), "--mode", "full_refresh", ...target(t, server.base)], t.key);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({
      parts: 3,
      results: { upserted: LINES, deleted: 0, failed: 0 },
      run: { state: "completed", swept: 0, final_sent: true },
    });
    const run1 = await client.GET("/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}", {
      params: { path: { vector_store_id: t.store, sync_timestamp: first.json.sync_timestamp } },
    });
    expect(run1.data).toMatchObject({ state: "completed", parts: 3, namespaces: [NS] });
    expect((await listRecordIds(server.base, t, NS)).length).toBe(LINES);

    const gone = (i: number) => i % 12 === 5;
    const second = await runCli([writeOps("full-2.jsonl", gone), "--mode", "full_refresh", ...target(t, server.base)], t.key);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toMatchObject({
      parts: 3,
      records_sent: 11_000,
      results: { upserted: 0, unchanged: 11_000, deleted: 1000, failed: 0 },
      run: { state: "completed", swept: 1000 },
    });
    const left = new Set(await listRecordIds(server.base, t, NS));
    expect(left.size).toBe(11_000);
    for (let i = 0; i < LINES; i++) expect(left.has(`r${String(i).padStart(5, "0")}`)).toBe(!gone(i));

    // A raw-record run of an empty file names its --namespace: the namespace becomes empty. The
    // sweep removes at most 10,000 records a request, so the final request is sent again.
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const third = await runCli([empty, "--mode", "full_refresh", "--namespace", NS, ...target(t, server.base)], t.key);
    expect(third.code, third.stderr).toBe(0);
    expect(third.json).toMatchObject({
      parts: 2,
      records_sent: 0,
      results: { deleted: 11_000 },
      run: { state: "completed", swept: 11_000 },
    });
    expect(third.stderr).toMatch(/final again/);
    expect(await listRecordIds(server.base, t, NS)).toEqual([]);
  });

  it("rides out 429 and 503 (Retry-After), a lost answer and a bare 503, and applies every record once", async () => {
    const t = await newTenant(server.base, "faults");
    const retryAfter = { "Retry-After": "1" };
    const plan = (n: number) =>
      n <= 2
        ? { kind: "answer" as const, status: 429, headers: retryAfter }
        : n <= 4
          ? { kind: "answer" as const, status: 503, headers: retryAfter }
          : n === 5
            ? { kind: "lose-answer" as const } // part 1 applied, its answer lost: the retry must replay
            : n === 7
              ? { kind: "answer" as const, status: 503 } // no Retry-After: exponential backoff
              : { kind: "pass" as const };
    const proxy = await startFaultProxy(server.base, plan);
    proxies.push(proxy);
    const run = await runCli([writeOps("faults.jsonl"), ...target(t, proxy.base), "--max-backoff", "1"], t.key);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ parts: 3, results: { upserted: LINES, failed: 0 } });
    expect(run.stderr).toMatch(/part 1: 429 RATE_LIMIT_EXCEEDED; retrying in 1\.0 s/);
    expect(run.stderr).toMatch(/part 1: 503 UPSTREAM_UNAVAILABLE; retrying in 1\.0 s/);
    expect(run.stderr).toMatch(/part 1: network error/);
    const syncs = proxy.syncs();
    // 4 refused, 1 applied with its answer lost, its replay, part 2 refused once then sent, part 3.
    expect(syncs.map((s) => s.fault)).toEqual(["answer", "answer", "answer", "answer", "lose-answer", "pass", "answer", "pass", "pass"]);
    expect(syncs[5]!.replayed).toBe(true);
    expect(syncs[5]!.key).toBe(syncs[4]!.key);
    expect(new Set(syncs.map((s) => s.key)).size).toBe(3);
    // Applied once: three syncs in the store, 12,000 records.
    expect((await listSyncs(server.base, t)).length).toBe(3);
    expect((await listRecordIds(server.base, t, NS)).length).toBe(LINES);
  });

  it("never retries a refused request: a wrong organization is exit 1 after one attempt", async () => {
    const t = await newTenant(server.base, "refused");
    const proxy = await startFaultProxy(server.base, () => ({ kind: "pass" }));
    proxies.push(proxy);
    const file = writeOps("refused.jsonl", (i) => i >= 10);
    const run = await runCli([file, "--url", proxy.base, "--org", "org_someone_else", "--store", t.store, "--json"], t.key);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({ status: "failed", exit_code: 1, error: { status: 403, code: "INSUFFICIENT_PERMISSIONS" } });
    expect(proxy.syncs().length).toBe(1);
  });

  it("a full_refresh killed after two parts, run again, replays those two parts and completes the same run", async () => {
    const t = await newTenant(server.base, "kill");
    const proxy = await startFaultProxy(server.base, (n) => (n <= 2 ? { kind: "pass" } : { kind: "hang" }));
    proxies.push(proxy);
    const file = writeOps("kill-full.jsonl");
    const args = [file, "--mode", "full_refresh", ...target(t, proxy.base)];
    const first = startCli(args, t.key);
    await until(() => proxy.syncs().length >= 3, 60_000, "the third part");
    first.child.kill("SIGKILL");
    await first.done;
    const state = JSON.parse(readFileSync(`${file}.unified-sync-state.json`, "utf8"));
    expect(Object.keys(state.parts)).toEqual(["1", "2"]);
    expect((await listSyncs(server.base, t)).length).toBe(2);

    proxy.setPlan(() => ({ kind: "pass" }));
    const again = await runCli(args, t.key);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({
      sync_timestamp: state.sync_timestamp,
      parts: 3,
      replayed_parts: 2,
      resumed_parts: 0,
      results: { upserted: LINES, failed: 0 },
      run: { state: "completed" },
    });
    const resent = proxy.syncs().slice(3);
    expect(resent.map((s) => s.replayed)).toEqual([true, true, false]);
    expect(resent.slice(0, 2).map((s) => s.key)).toEqual(
      proxy
        .syncs()
        .slice(0, 2)
        .map((s) => s.key),
    );
    // The server applied three parts, not five: the run counts 3, the store has 3 syncs.
    const client = createSyncClient({ baseUrl: server.base, apiKey: t.key });
    const runView = await client.GET("/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}", {
      params: { path: { vector_store_id: t.store, sync_timestamp: state.sync_timestamp } },
    });
    expect(runView.data).toMatchObject({ state: "completed", parts: 3, results: { upserted: LINES } });
    expect((await listSyncs(server.base, t)).length).toBe(3);
    expect((await listRecordIds(server.base, t, NS)).length).toBe(LINES);
    expect(existsSync(`${file}.unified-sync-state.json`)).toBe(false);
  });

  it("an incremental push killed after two parts, run again with --resume, sends only the third", async () => {
    const t = await newTenant(server.base, "resume");
    const proxy = await startFaultProxy(server.base, (n) => (n <= 2 ? { kind: "pass" } : { kind: "hang" }));
    proxies.push(proxy);
    const file = writeOps("kill-incremental.jsonl");
    const args = [file, ...target(t, proxy.base)];
    const first = startCli(args, t.key);
    await until(() => proxy.syncs().length >= 3, 60_000, "the third part");
    first.child.kill("SIGKILL");
    await first.done;

    proxy.setPlan(() => ({ kind: "pass" }));
    const again = await runCli([...args, "--resume"], t.key);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ parts: 3, resumed_parts: 2, replayed_parts: 0, results: { upserted: LINES, failed: 0 } });
    // One new sync request (part 3), after reading the two stored answers back.
    expect(proxy.syncs().length).toBe(4);
    expect(proxy.log.filter((e) => e.method === "GET" && e.path.startsWith("/v1/connectors/pipeline/syncs/sync_")).length).toBe(2);
    expect((await listSyncs(server.base, t)).length).toBe(3);
    expect((await listRecordIds(server.base, t, NS)).length).toBe(LINES);
  });

  it("reports failed operations with their line numbers and exits 2; a record over the limit is never sent", async () => {
    const t = await newTenant(server.base, "partial");
    const lines = [
      JSON.stringify({ action: "upsert", id: "ok1", namespace: NS, data: { a: 1 } }),
      JSON.stringify({ action: "upsert", id: "empty", namespace: NS, data: {} }),
      JSON.stringify({ action: "upsert", id: "huge", namespace: NS, data: { blob: "x".repeat(300_000) } }),
      "{not json",
      JSON.stringify({ action: "delete", id: "ok2", namespace: NS }),
    ];
    const file = join(dir, "partial.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const proxy = await startFaultProxy(server.base, () => ({ kind: "pass" }));
    proxies.push(proxy);
    const run = await runCli([file, ...target(t, proxy.base)], t.key);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ status: "partial", records_sent: 3, skipped: 2, results: { upserted: 1, deleted: 1, failed: 1 } });
    expect(run.json.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 2, id: "empty", code: "INVALID_OPERATION", source: "server" }),
        expect.objectContaining({ line: 3, id: "huge", code: "RECORD_TOO_LARGE", source: "local" }),
        expect.objectContaining({ line: 4, code: "INVALID_JSON", source: "local" }),
      ]),
    );
    expect(proxy.syncs().length).toBe(1);
    // The human summary names them too.
    const human = await runCli([file, "--url", server.base, "--org", t.org, "--store", t.store, "--restart"], t.key);
    expect(human.code).toBe(2);
    expect(human.stdout).toMatch(/line 2 items\/empty: INVALID_OPERATION: data must be a non-empty object/);
    expect(human.stdout).toMatch(/line 3 items\/huge: RECORD_TOO_LARGE \(not sent\)/);
  });

  it("--delete-field constructor (toString, __proto__...) deletes nothing: only a record's own field marks a delete", async () => {
    const t = await newTenant(server.base, "proto");
    const file = join(dir, "people.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ id: "a", name: "A" })}\n${JSON.stringify({ id: "b", name: "B" })}\n${JSON.stringify({ id: "c", gone: 1 })}\n`,
    );
    const raw = ["--namespace", "people", ...target(t, server.base)];
    const first = await runCli([file, ...raw], t.key);
    expect(first.code, first.stderr).toBe(0);
    for (const field of ["constructor", "toString", "valueOf", "__proto__"]) {
      const again = await runCli([file, ...raw, "--delete-field", field], t.key);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json, field).toMatchObject({ results: { upserted: 0, deleted: 0, unchanged: 3, failed: 0 } });
    }
    expect((await listRecordIds(server.base, t, "people")).sort()).toEqual(["a", "b", "c"]);
    const own = await runCli([file, ...raw, "--delete-field", "gone"], t.key);
    expect(own.json).toMatchObject({ results: { deleted: 1, unchanged: 2 } });
    expect((await listRecordIds(server.base, t, "people")).sort()).toEqual(["a", "b"]);
  });

  it('never merges different source ids: 1 and "1" collide (both lines named), 1.0 and -0 are bad lines', async () => {
    const t = await newTenant(server.base, "ids");
    const file = join(dir, "ids.jsonl");
    writeFileSync(
      file,
      ['{"id":1,"v":"a"}', '{"id":"1","v":"b"}', '{"id":1.0,"v":"c"}', '{"id":-0,"v":"d"}', '{"id":0,"v":"e"}', ""].join("\n"),
    );
    const run = await runCli([file, "--namespace", "n", ...target(t, server.base)], t.key);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ status: "partial", records_sent: 2, skipped: 3, results: { upserted: 2 } });
    expect(run.json.failures).toEqual([
      expect.objectContaining({ line: 2, id: "1", code: "ID_COLLISION", message: expect.stringMatching(/the number 1 on line 1/) }),
      expect.objectContaining({ line: 3, code: "INVALID_ID" }),
      expect.objectContaining({ line: 4, code: "INVALID_ID" }),
    ]);
    expect((await listRecordIds(server.base, t, "n")).sort()).toEqual(["0", "1"]);
    const client = createSyncClient({ baseUrl: server.base, apiKey: t.key });
    const one = await client.GET("/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}", {
      params: { path: { vector_store_id: t.store, namespace: "n", record_id: "1" } },
    });
    expect(one.data?.data).toEqual({ id: 1, v: "a" });
  });

  it("an answer that counts fewer operations than were sent is a failure (exit 2); a full_refresh then sends no final", async () => {
    const t = await newTenant(server.base, "count");
    const proxy = await startFaultProxy(server.base, (n) =>
      n === 1 ? { kind: "rewrite", edit: (a) => ({ ...a, processed: a.processed - 1 }) } : { kind: "pass" },
    );
    proxies.push(proxy);
    const file = writeOps("count.jsonl", (i) => i >= 10);
    const run = await runCli([file, ...target(t, proxy.base)], t.key);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ status: "partial", exit_code: 2, count_mismatches: [{ part: 1, sent: 10, processed: 9 }] });

    const full = await startFaultProxy(server.base, (n) =>
      n === 1 ? { kind: "rewrite", edit: (a) => ({ ...a, processed: a.processed - 1 }) } : { kind: "pass" },
    );
    proxies.push(full);
    const run2 = await runCli([file, "--mode", "full_refresh", "--batch-size", "5", ...target(t, full.base)], t.key);
    expect(run2.code).toBe(2);
    expect(run2.json).toMatchObject({
      parts: 2,
      count_mismatches: [{ part: 1, sent: 5, processed: 4 }],
      run: { state: "open", final_sent: false },
    });
    expect(run2.stderr).toMatch(/part 1: 5 operations: .*\(the server counts 4 processed of 5 sent\)/);
  });

  it("prints ids and messages with control characters escaped, in --json and in the summary", async () => {
    // Every control character but the line feed, as a character class built from code points.
    const control = new RegExp(`[${String.fromCharCode(0)}-\t\v-${String.fromCharCode(0x1f, 0x7f)}-${String.fromCharCode(0x9f)}]`);
    const t = await newTenant(server.base, "escape");
    const hostile = "\u001b]0;owned\u0007\u001b[2J\u007f\u009b31m";
    const file = join(dir, "escape.jsonl");
    writeFileSync(file, `${JSON.stringify({ action: "upsert", id: hostile, namespace: NS, data: {} })}\n`);
    const run = await runCli([file, ...target(t, server.base)], t.key);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toMatch(control);
    expect(run.json.failures[0].id).toBe(hostile);
    const human = await runCli([file, "--url", server.base, "--org", t.org, "--store", t.store, "--restart"], t.key);
    expect(human.stdout + human.stderr).not.toMatch(control);
    expect(human.stdout).toContain("line 1 items/\\x1b]0;owned\\x07\\x1b[2J\\x7f\\x9b31m: INVALID_OPERATION");
  });

  it("nothing listening at --url: gives up after two short retries with the reason (exit 1), leaves no state", async () => {
    const t = await newTenant(server.base, "refused");
    const port = await freePort();
    const file = writeOps("nobody.jsonl", (i) => i >= 10);
    const url = `http://127.0.0.1:${port}`;
    const run = await runCli([file, "--url", url, "--org", t.org, "--store", t.store], t.key);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`push failed: part 1: nothing answers at ${url}: is \`npm run dev\` running?`);
    // Two retries, 0.5 s and 1 s apart, instead of eight over 45 s.
    expect(run.stderr.match(/connection refused; retrying/g)).toHaveLength(2);
    expect(run.stderr).not.toMatch(/run the same command again/);
    expect(existsSync(`${file}.unified-sync-state.json`)).toBe(false);
  });

  it("a refused request (401, 403, 404, a whole-request 400) exits 1 with the server's message and trace id, no resume, no state", async () => {
    const t = await newTenant(server.base, "permanent");
    const file = writeOps("permanent.jsonl", (i) => i >= 10);
    const state = `${file}.unified-sync-state.json`;
    const cases: [string[], string | null, RegExp][] = [
      [["--org", t.org, "--store", t.store], "usk_not_a_key_0123456789", /part 1: 401 \w+: .+ \(trace id \S+\)/],
      [["--org", "org_someone_else", "--store", t.store], t.key, /part 1: 403 INSUFFICIENT_PERMISSIONS: .+ \(trace id \S+\)/],
      [["--org", t.org, "--store", "vs_nowhere_0000"], t.key, /part 1: 404 \w+: .+ \(trace id \S+\)/],
    ];
    for (const [args, key, expected] of cases) {
      const run = await runCli([file, "--url", server.base, ...args], key);
      expect(run.code, run.stdout).toBe(1);
      expect(run.stdout).toMatch(expected);
      expect(run.stderr).not.toMatch(/run the same command again/);
      expect(existsSync(state)).toBe(false);
    }
    const proxy = await startFaultProxy(server.base, () => ({
      kind: "answer",
      status: 400,
      body: {
        success: false,
        error: { code: "VALIDATION_ERROR", message: "sync_mode must be incremental or full_refresh", trace_id: "req_t400" },
      },
    }));
    proxies.push(proxy);
    const run = await runCli([file, ...target(t, proxy.base)], t.key);
    expect(run.code).toBe(1);
    expect(run.json.error).toMatchObject({ status: 400, code: "VALIDATION_ERROR", trace_id: "req_t400" });
    expect(run.stderr).not.toMatch(/run the same command again/);
    expect(existsSync(state)).toBe(false);
    expect(proxy.syncs().length).toBe(1);
  });
});
