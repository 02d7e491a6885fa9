// What bounds the memory a request can make the service use, checked for what a client sees: the
// cheap counts and sizes refuse before anything walks or parses the client's JSON. Whether each
// worst request fits a 64 MB heap is checked by `npm run memory:check` (workerd capped); these
// tests pin the answers.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { operationStrings, splitSyncBody } from "../src/base/json/sync-body";
import { findJsonProblem, MAX_JSON_DEPTH } from "../src/schemas/common";
import { MAX_OPERATION_BYTES, MAX_OPERATIONS } from "../src/schemas/sync";
import { BASE, call, createTenant, getRecord, sync, syncBody, upsert, type Tenant } from "./support/helpers";

const SYNC = "/v1/connectors/pipeline/sync";
const utf8 = new TextEncoder();

async function compressed(text: string, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([utf8.encode(text)]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function post(t: Tenant, path: string, body: BodyInit, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(BASE + path, { method: "POST", body, headers: { "X-API-Key": t.key, "Content-Type": "application/json", ...headers } }),
  );
}

describe("walks over client JSON", () => {
  it("findJsonProblem names the path of a problem at the end of a wide array, and of one too deep", () => {
    const wide = { a: new Array(100_000).fill(0) };
    wide.a.push(Number.POSITIVE_INFINITY);
    expect(findJsonProblem(wide, MAX_JSON_DEPTH)?.path).toEqual(["a", 100_000]);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = { k: [deep] };
    expect(findJsonProblem({ first: "fine", deep }, MAX_JSON_DEPTH)?.message).toBe(`must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    expect(findJsonProblem({ a: [1, { b: null }], __proto__x: "s" }, MAX_JSON_DEPTH)).toBeNull();
  });
});

describe("the body scanner counts operations as it goes", () => {
  it("refuses past the limit with the exact count, keeping no ranges past it", () => {
    const body = utf8.encode(`{"operations":[${"1,".repeat(MAX_OPERATIONS + 1234)}1]}`);
    expect(splitSyncBody(body, MAX_OPERATIONS)).toEqual({ kind: "too_many", count: MAX_OPERATIONS + 1235 });
    const split = splitSyncBody(utf8.encode(`{"operations":[${"1,".repeat(MAX_OPERATIONS - 1)}1]}`), MAX_OPERATIONS);
    expect(split.kind === "split" && split.operations.spans.length).toBe(2 * MAX_OPERATIONS);
  });

  it("400 BATCH_SIZE_EXCEEDED for a million scalars, with their count", async () => {
    const t = await createTenant();
    const text = JSON.stringify(syncBody(t, [])).replace('"operations":[]', `"operations":[${"1,".repeat(999_999)}1]`);
    const res = await call("POST", SYNC, text, { "X-API-Key": t.key });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("BATCH_SIZE_EXCEEDED");
    expect(body.error.details).toEqual({ max_operations: MAX_OPERATIONS, operations: 1_000_000 });
  });

  it("reads an operation's id and namespace off its bytes, the last of repeated keys", () => {
    const text = `{"operations":[{"id":"a","data":{"id":"inner"},"namespace":"n1","id":"b\\u0041"}, {"id":7}]}`;
    const split = splitSyncBody(utf8.encode(text));
    if (split.kind !== "split") throw new Error(split.kind);
    expect(Object.fromEntries(operationStrings(split.operations, 0, ["id", "namespace"]))).toEqual({ id: "bA", namespace: "n1" });
    expect(operationStrings(split.operations, 1, ["id", "namespace"]).size).toBe(0);
  });
});

describe("an operation too large to parse", () => {
  it("is RECORD_TOO_LARGE alone, named by its id and namespace, unparsed; the rest apply", async () => {
    const t = await createTenant();
    // The record: 2 million zeros in data (3.8 MB), which crashed the store's object.
    const zeros = `{"a":[${"0,".repeat(1_999_999)}0]}`;
    const text = JSON.stringify(syncBody(t, [upsert("wide", { x: 1 }, "wide"), upsert("fine", { title: "ok" }, "wide")])).replace(
      '{"x":1}',
      zeros,
    );
    const res = await call("POST", SYNC, text, { "X-API-Key": t.key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.results).toMatchObject({ upserted: 1, failed: 1 });
    expect(body.errors).toEqual([
      {
        index: 0,
        id: "wide",
        namespace: "wide",
        code: "RECORD_TOO_LARGE",
        message: expect.stringContaining(`the limit is ${MAX_OPERATION_BYTES}`),
      },
    ]);
    expect((await getRecord(t, "wide", "fine")).status).toBe(200);
  });

  it("a vector longer than Vectorize allows is refused before its items are checked", async () => {
    const t = await createTenant();
    const res = await sync(t, [upsert("v", { a: 1 }, "n", { vector: new Array(20_000).fill("x") })]);
    expect(res.body.errors[0]).toMatchObject({ code: "INVALID_VECTOR", message: "vector must have at most 1536 items" });
  });

  it("a record's data over the limit is RECORD_TOO_LARGE even when its nesting or numbers are also wrong", async () => {
    const t = await createTenant();
    let deep: unknown = "bottom";
    for (let i = 0; i < MAX_JSON_DEPTH + 2; i++) deep = { d: deep };
    const res = await sync(t, [upsert("big", { list: new Array(200_000).fill(0), deep }, "n")]);
    expect(res.body.errors[0].code).toBe("RECORD_TOO_LARGE");
  });
});

describe("the rest of a request is bounded before it is parsed", () => {
  it("413 for an envelope over 1 MiB; a 1000-namespace bound checked before each name is", async () => {
    const t = await createTenant();
    const wide = JSON.stringify({ padding: "@", ...syncBody(t, []) }).replace('"@"', `[${"0,".repeat(600_000)}0]`);
    const res = await call("POST", SYNC, wide, { "X-API-Key": t.key });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.details).toEqual({ max_bytes: 1024 * 1024 });
    const many = await sync(t, [], { sync_mode: "full_refresh", final: true, namespaces: new Array(200_000).fill("") });
    expect(many.status).toBe(400);
    expect(many.body.error.details.fields).toEqual({ namespaces: ["must have at most 1000 items"] });
  });

  it("a body over 1 MiB that is not a sync body is refused unparsed (400 INVALID_JSON)", async () => {
    const t = await createTenant();
    const res = await call("POST", SYNC, `[${"0,".repeat(600_000)}0]`, { "X-API-Key": t.key });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("INVALID_JSON");
    // A small one is still parsed and named as before.
    const small = await call("POST", SYNC, "[0]", { "X-API-Key": t.key });
    expect(((await small.json()) as any).error.code).toBe("VALIDATION_ERROR");
  });

  it("search: 413 past 256 KiB; namespace and vector lists bounded before their items are checked", async () => {
    const t = await createTenant();
    const path = `/v1/vector_stores/${t.store}/search`;
    const big = await call("POST", path, { query: "q", filter: { a: { $in: new Array(200_000).fill(0) } } }, { "X-API-Key": t.key });
    expect(big.status).toBe(413);
    const ns = await call("POST", path, { query: "q", namespace: new Array(50_000).fill("") }, { "X-API-Key": t.key });
    expect(((await ns.json()) as any).error.details.fields).toEqual({ namespace: ["must have at most 20 items"] });
  });
});

describe("compressed sync bodies", () => {
  it("gzip and deflate bodies are inflated and applied", async () => {
    const t = await createTenant();
    for (const format of ["gzip", "deflate"] as const) {
      const body = JSON.stringify(syncBody(t, [upsert(`z_${format}`, { title: format })]));
      const res = await post(t, SYNC, await compressed(body, format), { "Content-Encoding": format });
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).results.upserted).toBe(1);
      expect((await getRecord(t, "clickup_tasks", `z_${format}`)).body.data).toEqual({ title: format });
    }
  });

  it("a gzip bomb is refused 413 at the inflated limit", async () => {
    const t = await createTenant();
    const [before, after] = JSON.stringify(syncBody(t, [])).split('"operations":[]');
    const bomb = await compressed(`${before}"x":"${" ".repeat(40 * 1024 * 1024)}","operations":[]${after}`, "gzip");
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const res = await post(t, SYNC, bomb, { "Content-Encoding": "gzip" });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("415 for any other encoding; 400 for a body that is not what its encoding says", async () => {
    const t = await createTenant();
    const body = JSON.stringify(syncBody(t, [upsert("a", { v: 1 })]));
    for (const encoding of ["br", "gzip, gzip", "compress"]) {
      const res = await post(t, SYNC, body, { "Content-Encoding": encoding });
      expect(res.status).toBe(415);
      expect(((await res.json()) as any).error.details).toEqual({ content_encoding: encoding });
    }
    const search = await post(t, `/v1/vector_stores/${t.store}/search`, await compressed('{"query":"q"}', "gzip"), {
      "Content-Encoding": "gzip",
    });
    expect(search.status).toBe(415);
    const corrupt = await post(t, SYNC, body, { "Content-Encoding": "gzip" });
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as any).error.code).toBe("INVALID_JSON");
  });
});
