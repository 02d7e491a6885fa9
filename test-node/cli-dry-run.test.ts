// `unified-sync push --dry-run`: offline validation with the server's schemas (no server needed),
// and the CLI's pure parts: line splitting, part cutting, keys, retry timing.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLines } from "../cli/lines";
import { ENVELOPE_RESERVE_BYTES, PartBuilder, partBody, partKey, sha256Hex } from "../cli/parts";
import { IdCollisions, MAX_IDS } from "../cli/id-collisions";
import { memberText } from "../cli/json-member";
import { toOperation } from "../cli/records";
import { DEFAULT_RETRY, backoffMs, isRetryable, parseRetryAfter } from "../cli/retry";
import { root, runCli } from "./cli-helpers";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cli-dry-run-test-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const op = (id: string, extra: object = {}) => JSON.stringify({ action: "upsert", id, namespace: "tasks", data: { name: id }, ...extra });

describe("unified-sync push --dry-run", () => {
  it("reports bad lines with their line numbers and exits non-zero; sends nothing", async () => {
    const file = join(dir, "bad.jsonl");
    const lines = [
      op("t1"), // 1 ok
      "", // 2 blank: ignored
      "{not json", // 3
      JSON.stringify({ action: "upsert", id: "t4", namespace: "bad namespace!", data: { a: 1 } }), // 4
      JSON.stringify({ action: "upsert", id: "t5", namespace: "tasks", data: {} }), // 5
      JSON.stringify({ action: "remove", id: "t6", namespace: "tasks" }), // 6
      op("t7", { updated_at: "2026-02-30T00:00:00Z" }), // 7 no February 30th
      op("t8", { data: { blob: "x".repeat(270_000) } }), // 8 over 256 KiB
      "[1,2,3]", // 9 not an object
      JSON.stringify({ action: "delete", id: "t10", namespace: "tasks" }), // 10 ok
      '{"action":"upsert","id":"t11","namespace":"tasks","data":{"tweet_id":1234567890123456789}}', // 11 not a float64
    ];
    writeFileSync(file, Buffer.concat([Buffer.from(`${lines.join("\n")}\n`), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])])); // 12: bad UTF-8
    // No API key, no server: --dry-run needs neither.
    const run = await runCli([file, "--dry-run"], null);
    expect(run.code).toBe(1);
    for (const [line, code] of [
      [3, "INVALID_JSON"],
      [4, "INVALID_OPERATION"],
      [5, "INVALID_OPERATION"],
      [6, "INVALID_OPERATION"],
      [7, "INVALID_OPERATION"],
      [8, "RECORD_TOO_LARGE"],
      [9, "INVALID_JSON"],
      [11, "INVALID_OPERATION"],
      [12, "INVALID_UTF8"],
    ] as const) {
      expect(run.stdout).toMatch(new RegExp(`^line ${line}: ${code}: `, "m"));
    }
    expect(run.stdout).not.toMatch(/^line (1|2|10):/m);
    expect(run.stdout).toMatch(/line 4: INVALID_OPERATION: namespace must be 1-64 characters/);
    expect(run.stdout).toMatch(/line 6: INVALID_OPERATION: .*action must be 'upsert' or 'delete'/);
    expect(run.stdout).toMatch(/line 11: INVALID_OPERATION: the number 1234567890123456789 cannot be held exactly/);
    expect(run.stdout).toMatch(/12 lines, 2 valid operations \(1 upsert, 1 delete\) in 1 namespace, 9 bad lines/);

    const json = await runCli([file, "--dry-run", "--json"], null);
    expect(json.code).toBe(1);
    expect(json.json).toMatchObject({ lines: 12, operations: 2, bad: 9 });
    expect(json.json.bad_lines.map((b: { line: number }) => b.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 11, 12]);
  });

  it("passes a clean file (exit 0) and counts the parts a push would send, by operations and by bytes", async () => {
    const file = join(dir, "good.jsonl");
    writeFileSync(file, `${Array.from({ length: 12_000 }, (_, i) => op(`t${i}`)).join("\n")}\n`);
    const run = await runCli([file, "--dry-run", "--json"], null);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.json).toMatchObject({ lines: 12_000, operations: 12_000, bad: 0, parts: 3 });
    // ~75 bytes a line: 256 KiB bodies (minus the envelope reserve) hold about 2,400 operations.
    const small = await runCli([file, "--dry-run", "--json", "--max-body-bytes", String(256 * 1024)], null);
    const perPart = Math.floor((256 * 1024 - ENVELOPE_RESERVE_BYTES) / (Buffer.byteLength(op("t11999")) + 1));
    expect(small.json.parts).toBeGreaterThanOrEqual(Math.ceil(12_000 / perPart));
    expect(small.json.parts).toBeLessThanOrEqual(Math.ceil(12_000 / perPart) + 1);
  });

  it("raw records: --namespace and --id-field make the whole object the data; --delete-field marks deletes", async () => {
    const file = join(dir, "raw.jsonl");
    writeFileSync(
      file,
      [JSON.stringify({ pk: 1, name: "a" }), JSON.stringify({ pk: "b", deleted: true }), JSON.stringify({ name: "no id" }), ""].join("\n"),
    );
    const run = await runCli([file, "--dry-run", "--json", "--namespace", "people", "--id-field", "pk", "--delete-field", "deleted"], null);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      lines: 3,
      operations: 2,
      upserts: 1,
      deletes: 1,
      bad: 1,
      bad_lines: [{ line: 3, code: "MISSING_ID" }],
    });
  });

  it("reads --delete-field and --id-field only as the record's own fields: constructor, toString, __proto__ find nothing", async () => {
    const file = join(dir, "inherited.jsonl");
    writeFileSync(
      file,
      `${[JSON.stringify({ id: "a", name: "a" }), JSON.stringify({ id: "b" }), '{"id":"c","__proto__":{"x":1}}'].join("\n")}\n`,
    );
    for (const field of ["constructor", "toString", "valueOf", "__proto__", "hasOwnProperty", "__defineGetter__"]) {
      const run = await runCli([file, "--dry-run", "--json", "--namespace", "people", "--delete-field", field], null);
      // Line 3's own "__proto__" is an object, which is truthy: a delete only when asked for by that name.
      const deletes = field === "__proto__" ? 1 : 0;
      expect(run.json, field).toMatchObject({ operations: 3, upserts: 3 - deletes, deletes, bad: 0 });
      const byId = await runCli([file, "--dry-run", "--json", "--namespace", "people", "--id-field", field], null);
      expect(byId.json, field).toMatchObject({ operations: 0, bad: 3 });
      expect(byId.json.bad_lines.map((b: { code: string }) => b.code)).toEqual(
        field === "__proto__" ? ["MISSING_ID", "MISSING_ID", "INVALID_ID"] : ["MISSING_ID", "MISSING_ID", "MISSING_ID"],
      );
    }
    // A record's own field of that name is read as usual.
    writeFileSync(file, `${JSON.stringify({ id: "a", constructor: true })}\n${JSON.stringify({ id: "b", constructor: 0 })}\n`);
    const own = await runCli([file, "--dry-run", "--json", "--namespace", "people", "--delete-field", "constructor"], null);
    expect(own.json).toMatchObject({ operations: 2, upserts: 1, deletes: 1 });
  });

  it('ids are strings or integers as written: 1.0, -0, true and {} are bad lines; 1 and "1" in one push collide', async () => {
    const file = join(dir, "ids.jsonl");
    const lines = [
      '{"id":1}', // 1 record "1"
      '{"id":"1"}', // 2 collides with line 1
      '{"id":1.0}', // 3
      '{"id":-0}', // 4
      '{"id":0}', // 5 record "0"
      '{"id":"0"}', // 6 collides with line 5
      '{"id":true}', // 7
      '{"id":{"a":1}}', // 8
      '{"id":1e0}', // 9
      '{"id":12345678901234567890}', // 10 beyond 2^53 - 1
      '{"id":"007"}', // 11 a string: record "007", no collision with 7
      '{"id":7}', // 12
      '{"id":"-0"}', // 13 a string; -0 the number is refused, so no collision
      '{"id":-5}', // 14 record "-5"
      '{"id":"x","nested":{"id":1.5}}', // 15 only the top-level id counts
      '{"id":2, "id" : 2.5}', // 16 the last of a repeated name, as JSON.parse keeps
      '{"id":""}', // 17
      '{"id":null}', // 18
    ];
    writeFileSync(file, `${lines.join("\n")}\n`);
    const run = await runCli([file, "--dry-run", "--json", "--namespace", "people"], null);
    expect(run.code).toBe(1);
    const bad = Object.fromEntries(run.json.bad_lines.map((b: { line: number; code: string; message: string }) => [b.line, b]));
    expect(Object.keys(bad).map(Number)).toEqual([2, 3, 4, 6, 7, 8, 9, 10, 16, 17, 18]);
    expect(bad[2]).toMatchObject({ code: "ID_COLLISION" });
    expect(bad[2].message).toBe(
      'the string "1" and the number 1 on line 1 would both be record "1": not sent (make the ids distinct, or of one kind)',
    );
    expect(bad[6].message).toMatch(/the string "0" and the number 0 on line 5/);
    expect(bad[3]).toMatchObject({
      code: "INVALID_ID",
      message: expect.stringMatching(/'id' is the number 1\.0: an id is a string or an integer/),
    });
    expect(bad[4]).toMatchObject({ code: "INVALID_ID", message: expect.stringMatching(/'id' is -0: write 0/) });
    expect(bad[7]!.message).toMatch(/'id' is a boolean: ids are strings or integers/);
    expect(bad[8]!.message).toMatch(/'id' is an object/);
    expect(bad[9]!.message).toMatch(/the number 1e0/);
    expect(bad[10]!.message).toMatch(/12345678901234567890, beyond 2\^53 - 1: write it as a string/);
    expect(bad[16]!.message).toMatch(/the number 2\.5/);
    expect(bad[17]!.message).toMatch(/empty string/);
    expect(bad[18]!.message).toMatch(/'id' is null/);
    expect(run.json.operations).toBe(7);
    // The human report names both lines too.
    const human = await runCli([file, "--dry-run", "--namespace", "people"], null);
    expect(human.stdout).toMatch(/^line 2: ID_COLLISION: the string "1" and the number 1 on line 1 /m);
  });

  it("shows control characters of the input escaped: a bad line cannot clear or retitle the terminal", async () => {
    const file = join(dir, "hostile.jsonl");
    writeFileSync(file, `{"x": \u001b]0;owned\u0007 \u001b[2J\u009b1m}\n${JSON.stringify({ id: "\u001b[H", other: 1 })}\n`);
    const run = await runCli([file, "--dry-run", "--namespace", "n", "--id-field", "other"], null);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(new RegExp(`[${String.fromCharCode(0x1b, 0x07, 0x9b)}]`));
    expect(run.stdout).toMatch(/^line 1: INVALID_JSON: not JSON: .*\\x1b\]0;owned\\x07/m);
  });

  it("runs as `npx --no-install unified-sync`, reading stdin", async () => {
    const { stdout } = await promisify(execFile)(
      "sh",
      ["-c", `printf '%s\\n' '${op("x")}' | npx --no-install unified-sync push --dry-run`],
      { cwd: root, env: { ...process.env, UNIFIED_SYNC_API_KEY: "" } },
    );
    expect(stdout).toMatch(/1 line, 1 valid operation \(1 upsert, 0 deletes\)/);
  });

  it("refuses to push without the key in UNIFIED_SYNC_API_KEY (there is no key flag)", async () => {
    const file = join(dir, "one.jsonl");
    writeFileSync(file, `${op("x")}\n`);
    const run = await runCli([file, "--org", "org_abc123", "--store", "vs_demo"], null);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UNIFIED_SYNC_API_KEY/);
    const flag = await runCli([file, "--org", "org_abc123", "--store", "vs_demo", "--api-key", "x"], "k");
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/unknown option '--api-key'/);
  });
});

describe("unified-sync push with no server to reach", () => {
  it("a port fetch never connects to fails at once with the reason, and leaves no state", async () => {
    const file = join(dir, "bad-port.jsonl");
    writeFileSync(file, `${op("x")}\n`);
    const run = await runCli([file, "--url", "http://127.0.0.1:1", "--org", "org_abc123", "--store", "vs_demo", "--json"], "k");
    expect(run.code).toBe(1);
    expect(run.json.error).toMatchObject({
      code: "BAD_PORT",
      message: 'part 1: http://127.0.0.1:1: fetch never connects to this port ("bad port"): use another',
    });
    expect(run.stderr).not.toMatch(/retrying/);
    expect(existsSync(`${file}.unified-sync-state.json`)).toBe(false);
  });
});

describe("the CLI's pieces", () => {
  async function collect(chunks: (string | Buffer)[], max = 1000) {
    const reader = readLines(Readable.from(chunks.map((c) => (typeof c === "string" ? Buffer.from(c) : c))), max);
    const out = [];
    for await (const line of reader.lines) out.push(line);
    return out;
  }

  it("splits lines across chunks, CRLF and a BOM; skips blank lines but counts them; bounds line length", async () => {
    const lines = await collect(['\ufeff{"a"', ':1}\r\n\n  \n{"b":', "2}", "\n", "x".repeat(30), "y".repeat(30), "\n{}"], 40);
    expect(lines).toEqual([
      { number: 1, text: '{"a":1}', bytes: 11 },
      { number: 4, text: '{"b":2}', bytes: 7 },
      expect.objectContaining({ number: 5, error: "LINE_TOO_LONG" }),
      { number: 6, text: "{}", bytes: 2 },
    ]);
    const utf8 = await collect([Buffer.from([0x22, 0xc3]), Buffer.from([0xa9, 0x22, 0x0a, 0x22, 0xc3, 0x22])]);
    expect(utf8).toEqual([{ number: 1, text: '"é"', bytes: 4 }, expect.objectContaining({ number: 2, error: "INVALID_UTF8" })]);
  });

  it("keeps the line's own text: numbers are sent exactly as written", () => {
    const line = '{"action":"upsert","id":"n","namespace":"x","data":{"big":123456789012345678901234567890,"f":1.50}}';
    const out = toOperation(1, line, {});
    expect(out).toMatchObject({ kind: "op", json: line });
    const raw = toOperation(1, '{"pk":7,"v":1.50}', { namespace: "x", idField: "pk" });
    expect(raw).toMatchObject({ kind: "op", json: '{"action":"upsert","id":"7","namespace":"x","data":{"pk":7,"v":1.50}}' });
  });

  it("finds a member's source text at the top level only, the last of a repeated name", () => {
    expect(memberText('{"id":1.0}', "id")).toBe("1.0");
    expect(memberText(' { "a" : {"id":[1,"}"]} , "i\\u0064" :  -0 } ', "id")).toBe("-0");
    expect(memberText('{"id":1,"x":"\\"id\\":2","id":3e0}', "id")).toBe("3e0");
    expect(memberText('{"x":{"id":1}}', "id")).toBeNull();
    expect(memberText("{}", "id")).toBeNull();
  });

  it("tells the number N from the string N across a push, with bounded memory; past the bound it refuses, never merges", () => {
    const ids = new IdCollisions();
    expect(ids.check("42", "number", 1)).toEqual({ ok: true });
    expect(ids.check("42", "number", 2)).toEqual({ ok: true });
    expect(ids.check("abc", "string", 3)).toEqual({ ok: true });
    expect(ids.check("042", "string", 4)).toEqual({ ok: true });
    expect(ids.check("42", "string", 5)).toEqual({ ok: false, code: "ID_COLLISION", otherLine: 1, otherSource: "number" });
    // Fill the table with numbers past its bound: every one kept is still found.
    const full = new IdCollisions();
    for (let i = 0; i < MAX_IDS + 10; i++) full.check(String(i * 7), "number", i + 1);
    expect(full.check(String(7 * 1000), "string", 1)).toMatchObject({ ok: false, code: "ID_COLLISION", otherLine: 1001 });
    // A string id not in the table may equal a number that was not kept: refused, not merged.
    expect(full.check(String(7 * (MAX_IDS + 5)), "string", 2)).toEqual({ ok: false, code: "ID_UNCHECKED" });
    expect(full.check("1", "string", 3)).toEqual({ ok: false, code: "ID_UNCHECKED" });
    // More numbers are still fine: only the other kind cannot be checked.
    expect(full.check("1", "number", 4)).toEqual({ ok: true });
  });

  it("cuts parts at the operation count or the body size, whichever comes first", () => {
    const env = { organizationId: "org_a", vectorStoreId: "vs_a", mode: "full_refresh" as const, syncTimestamp: "2026-01-01T00:00:00Z" };
    const max = 300 * 1024;
    const builder = new PartBuilder(5000, max);
    const big = toOperation(1, op("big", { data: { blob: "é".repeat(60_000) } }), {});
    if (big.kind !== "op") throw new Error("expected an operation");
    let parts = 0;
    for (let i = 0; i < 10; i++) {
      if (!builder.fits(big)) {
        expect(Buffer.byteLength(partBody(env, builder.ops, true, ["tasks"]))).toBeLessThanOrEqual(max);
        parts++;
        builder.reset();
      }
      builder.add(big);
    }
    // 120 KB each (é is two bytes): 1 fits a 220 KiB part budget, 2 do not.
    expect(big.bytes).toBeGreaterThan(120_000);
    expect(parts).toBe(9);
    const counted = new PartBuilder(3, max);
    const small = toOperation(1, op("s"), {});
    if (small.kind !== "op") throw new Error("expected an operation");
    for (let i = 0; i < 3; i++) counted.add(small);
    expect(counted.fits(small)).toBe(false);
  });

  it("derives the same Idempotency-Key from the same store, timestamp, part and body, and another from any change", () => {
    const h = sha256Hex("body");
    const key = partKey("vs_a", "2026-01-01T00:00:00Z", 2, h);
    expect(key).toMatch(/^usp-2-[0-9a-f]{48}$/);
    expect(partKey("vs_a", "2026-01-01T00:00:00Z", 2, h)).toBe(key);
    for (const other of [
      partKey("vs_b", "2026-01-01T00:00:00Z", 2, h),
      partKey("vs_a", "2026-01-01T00:00:01Z", 2, h),
      partKey("vs_a", "2026-01-01T00:00:00Z", 3, h),
      partKey("vs_a", "2026-01-01T00:00:00Z", 2, sha256Hex("other")),
    ]) {
      expect(other).not.toBe(key);
    }
  });

  it("retries 429, 503, 502, 504 and 409 IDEMPOTENCY_KEY_IN_PROGRESS only; honours Retry-After; backs off with jitter, capped", () => {
    for (const s of [429, 503, 502, 504]) expect(isRetryable(s, null)).toBe(true);
    expect(isRetryable(409, "IDEMPOTENCY_KEY_IN_PROGRESS")).toBe(true);
    for (const [s, c] of [
      [400, "VALIDATION_ERROR"],
      [401, "INVALID_API_KEY"],
      [403, null],
      [409, "STALE_SYNC"],
      [413, null],
      [422, null],
      [500, null],
    ] as const) {
      expect(isRetryable(s, c)).toBe(false);
    }
    expect(parseRetryAfter("1")).toBe(1000);
    expect(parseRetryAfter("60")).toBe(60_000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
    const policy = { ...DEFAULT_RETRY, baseMs: 500, maxBackoffMs: 30_000 };
    expect(backoffMs(1, policy, () => 0)).toBe(250);
    expect(backoffMs(1, policy, () => 1)).toBe(500);
    expect(backoffMs(4, policy, () => 1)).toBe(4000);
    expect(backoffMs(20, policy, () => 1)).toBe(30_000);
    expect(backoffMs(20, policy, () => 0)).toBe(15_000);
  });
});
