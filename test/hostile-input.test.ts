// Regression tests for the defects an outside attack run found (issue "Hostile input"): each
// failed before its fix. The fuzz test (fuzz.test.ts) covers the same classes at random.
import { describe, expect, it } from "vitest";
import { call, createTenant, getRecord, ledgerRows, sync, syncBody, upsert, type Tenant } from "./support/helpers";
import { expectIndexMatchesLedger } from "./support/stand-ins";

const SYNC = "/v1/connectors/pipeline/sync";
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

async function expectHealthy(t: Tenant) {
  const health = await call("GET", "/health");
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });
  expect((await call("GET", "/openapi.json")).status).toBe(200);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(({} as Record<string, unknown>).upserted).toBeUndefined();
  const normal = await sync(t, [upsert("health-probe", { title: "still working" }, "probe")], { sync_timestamp: "2026-06-01T00:00:00Z" });
  expect(normal.status).toBe(200);
  expect(normal.body.status).toBe("success");
}

async function rawSync(t: Tenant, text: string | Uint8Array) {
  const { exports } = await import("cloudflare:workers");
  const r = await exports.default.fetch(
    new Request(`http://sync.test${SYNC}`, {
      method: "POST",
      body: text,
      headers: { "X-API-Key": t.key, "Content-Type": "application/json" },
    }),
  );
  return { status: r.status, body: (await r.json()) as any };
}

describe("Object.prototype names as client keys", () => {
  it("as namespaces, ids, data keys, metadata keys and filter keys: counted, stored, searchable, nothing polluted", async () => {
    const t = await createTenant();
    const ops = PROTO_NAMES.flatMap((name) => [
      upsert(name, { [name]: `value of ${name}`, title: `record ${name}` }, name, { metadata: { [name]: "m" } }),
      upsert(`${name}-2`, { title: "second" }, name),
    ]);
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    expect(res.body.results).toEqual({ upserted: ops.length, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    // Every name is its own namespace in the answer, with its own counts.
    expect(Object.keys(res.body.by_namespace).sort()).toEqual(PROTO_NAMES);
    for (const name of PROTO_NAMES) {
      expect(res.body.by_namespace[name]).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    }
    await expectHealthy(t);

    for (const name of ["__proto__", "constructor", "toString"]) {
      const record = await getRecord(t, name, name);
      expect(record.status).toBe(200);
      expect(Object.getOwnPropertyNames(record.body.data)).toContain(name);
      expect(record.body.data[name]).toBe(`value of ${name}`);
    }
    const status = await call("GET", `${SYNC.replace("/sync", "/syncs")}/${res.body.sync_id}`, undefined, { "X-API-Key": t.key });
    const stored = (await status.json()) as any;
    expect(Object.keys(stored.by_namespace).sort()).toEqual(PROTO_NAMES);

    const namespaces = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
    expect(((await namespaces.json()) as any).namespaces.map((n: any) => n.namespace).sort()).toEqual([...PROTO_NAMES, "probe"].sort());

    for (const name of PROTO_NAMES) {
      const search = await call(
        "POST",
        `/v1/vector_stores/${t.store}/search`,
        { query: `record ${name}`, namespace: name, filter: { [name]: "m" } },
        { "X-API-Key": t.key },
      );
      expect(search.status).toBeLessThan(500);
    }
    await expectHealthy(t);
    await expectIndexMatchesLedger(t.store);
  });

  it("as an embedding model name of a new store: refused, not looked up on Object.prototype", async () => {
    for (const name of ["constructor", "__proto__", "toString"]) {
      const res = await call(
        "POST",
        "/v1/admin/vector-stores",
        { organization_id: "org_proto", embedding_model: name },
        { Authorization: "Bearer test-admin-token" },
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.details.fields.embedding_model[0]).toContain("@cf/baai/bge-base-en-v1.5");
    }
  });

  it("in a request that fails validation", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      { action: "upsert", id: "x", namespace: "__proto__" },
      { action: "upsert", id: "__proto__", namespace: "constructor", data: 5 },
    ]);
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noProto: reading the own key "__proto__" of an answer is the point
    expect(res.body.by_namespace.__proto__).toEqual({ upserted: 0, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(res.body.by_namespace.constructor).toEqual({ upserted: 0, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    await expectHealthy(t);
  });
});

describe("deep nesting", () => {
  for (const depth of [65, 200, 5000, 100_000]) {
    it(`data nested ${depth} levels fails that operation alone (or the body is refused), never a 500`, async () => {
      const t = await createTenant();
      const deep = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
      const text =
        `{"organization_id":"${t.org}","vector_store_id":"${t.store}","sync_mode":"incremental",` +
        `"sync_timestamp":"2026-01-15T10:00:00Z","operations":[{"action":"upsert","id":"deep","namespace":"n","data":${deep}},` +
        `{"action":"upsert","id":"ok","namespace":"n","data":{"x":1}}]}`;
      const res = await rawSync(t, text);
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) {
        expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
        expect(res.body.errors[0]).toMatchObject({ index: 0, code: "INVALID_OPERATION" });
      } else {
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe("JSON_TOO_DEEP");
      }
      await expectHealthy(t);
    });
  }

  it("a body of more than 500,000 arrays and objects is refused before parsing (each costs tens of bytes parsed)", async () => {
    const t = await createTenant();
    const many = (n: number) =>
      JSON.stringify(syncBody(t, [])).replace(
        `"operations":[]`,
        `"operations":[{"action":"upsert","id":"o","namespace":"n","data":{"items":[${Array(n).fill("{}").join(",")}]}}]`,
      );
    const over = await rawSync(t, many(500_001));
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: "JSON_TOO_COMPLEX", details: { max_containers: 500_000 } });
    expect(await ledgerRows(t.store)).toEqual([]);
    // Under the bound the same shape is parsed and applied (the envelope and the operation count too).
    const under = await rawSync(t, many(100_000));
    expect(under.status).toBe(200);
    await expectHealthy(t);
  });

  it("an Idempotency-Key request with deep data is safe too", async () => {
    const t = await createTenant();
    const deep = "[".repeat(3000) + "]".repeat(3000);
    const text = JSON.stringify(syncBody(t, [])).replace(
      `"operations":[]`,
      `"operations":[{"action":"upsert","id":"d","namespace":"n","data":{"x":${deep}}}]`,
    );
    const { exports } = await import("cloudflare:workers");
    const r = await exports.default.fetch(
      new Request(`http://sync.test${SYNC}`, {
        method: "POST",
        body: text,
        headers: { "X-API-Key": t.key, "Content-Type": "application/json", "Idempotency-Key": "deep-1" },
      }),
    );
    expect(r.status).toBeLessThan(500);
    await expectHealthy(t);
  });
});

describe("data integrity", () => {
  it("an own vector value beyond float32 range fails that operation alone", async () => {
    const t = await createTenant();
    const good = Array.from({ length: 768 }, (_, i) => (i % 7) / 7 + 0.01);
    const bad = [...good];
    bad[3] = 1e39;
    const ops = [
      upsert("bad", { t: 1 }, "n", { vector: bad }),
      ...Array.from({ length: 20 }, (_, i) => upsert(`good${i}`, { t: i }, "n", { vector: good })),
    ];
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 20, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(res.body.errors).toEqual([expect.objectContaining({ index: 0, id: "bad", code: "INVALID_VECTOR" })]);
    await expectIndexMatchesLedger(t.store);
  });

  it("a full_refresh with failed operations sweeps nothing", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b", "c"].map((id) => upsert(id, { v: 1 })),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    const allBad = await sync(t, [{ action: "upsert", id: "x", namespace: "clickup_tasks" }], {
      sync_mode: "full_refresh",
      sync_timestamp: "2026-02-01T00:00:00Z",
    });
    expect(allBad.body.status).toBe("failed");
    expect(allBad.body.results.deleted).toBe(0);
    const someBad = await sync(t, [upsert("a", { v: 2 }), { action: "upsert", id: "y", namespace: "clickup_tasks", data: {} }], {
      sync_mode: "full_refresh",
      sync_timestamp: "2026-02-02T00:00:00Z",
    });
    expect(someBad.body.status).toBe("partial_success");
    expect(someBad.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(someBad.body.sweep).toEqual({
      deleted: 0,
      remaining: 0,
      skipped_namespaces: ["clickup_tasks"],
      reason: expect.stringContaining("failed"),
    });
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "b", "c"]);
    await expectIndexMatchesLedger(t.store);
    // The same refresh without the bad operation then sweeps as documented.
    const clean = await sync(t, [upsert("a", { v: 2 })], { sync_mode: "full_refresh", sync_timestamp: "2026-02-02T00:00:00Z" });
    expect(clean.body.results).toEqual({ upserted: 0, deleted: 2, unchanged: 1, failed: 0, stale: 0 });
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a"]);
  });

  it("timestamps outside years 0000-9999 UTC are refused", async () => {
    const t = await createTenant();
    const late = await sync(t, [upsert("a", { v: 1 }, "n", { updated_at: "9999-12-31T23:00:00-02:00" })]);
    expect(late.body.results.failed).toBe(1);
    expect(late.body.errors[0]).toMatchObject({ code: "INVALID_OPERATION" });
    expect(late.body.errors[0].message).toContain("updated_at");
    const early = await sync(t, [upsert("a", { v: 1 }, "n", { updated_at: "0000-01-01T00:30:00+01:00" })]);
    expect(early.body.results.failed).toBe(1);
    const envelope = await sync(t, [], { sync_timestamp: "9999-12-31T23:59:59-00:01" });
    expect(envelope.status).toBe(400);
    expect(envelope.body.error.details.fields.sync_timestamp).toBeDefined();
    // The first and last days are refused whole with an offset that leads out of the range (as
    // the OpenAPI document's pattern says), even at an hour that would stay inside it.
    const wholeDay = await sync(t, [], { sync_timestamp: "0000-01-01T12:00:00+01:00" });
    expect(wholeDay.status).toBe(400);
    expect((await sync(t, [], { sync_timestamp: "9999-12-31T01:00:00-01:00" })).status).toBe(400);
    // The edges themselves are fine, and so is an offset that leads into the range.
    const edge = await sync(t, [
      upsert("b", { v: 1 }, "n", { updated_at: "9999-12-31T23:59:59.999999999Z" }),
      upsert("c", { v: 1 }, "n", { updated_at: "0000-01-01T00:00:00Z" }),
      upsert("d", { v: 1 }, "n", { updated_at: "0000-01-01T00:00:00-01:00" }),
    ]);
    expect(edge.body.results).toEqual({ upserted: 3, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
  });

  it("versions keep sub-millisecond precision: a newer microsecond is not overwritten by an older one", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: "newer" }, "n", { updated_at: "2026-01-15T10:00:00.0009Z" })]);
    const older = await sync(t, [upsert("a", { v: "older" }, "n", { updated_at: "2026-01-15T10:00:00.0001Z" })]);
    expect(older.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 1 });
    expect((await getRecord(t, "n", "a")).body.data).toEqual({ v: "newer" });
    const nanos = await sync(t, [upsert("a", { v: "newest" }, "n", { updated_at: "2026-01-15T11:00:00.000900001+01:00" })]);
    expect(nanos.body.results.upserted).toBe(1);
    const tooPrecise = await sync(t, [upsert("a", { v: 1 }, "n", { updated_at: "2026-01-15T10:00:00.0000000001Z" })]);
    expect(tooPrecise.body.errors[0]).toMatchObject({ code: "INVALID_OPERATION" });
  });

  it("invalid UTF-8 in the body is refused, never merged into U+FFFD", async () => {
    const t = await createTenant();
    const prefix = new TextEncoder().encode(JSON.stringify(syncBody(t, [upsert("PLACEHOLDER", { v: 1 })])));
    const text = new TextDecoder().decode(prefix);
    const at = text.indexOf("PLACEHOLDER");
    const bytes = new Uint8Array([...prefix.slice(0, at), 0x75, 0xff, ...prefix.slice(at + "PLACEHOLDER".length)]);
    const res = await rawSync(t, bytes);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_JSON");
    expect(await ledgerRows(t.store)).toEqual([]);
  });

  it("numbers that JavaScript cannot hold exactly are refused with their path; others are kept exactly", async () => {
    const t = await createTenant();
    const text = JSON.stringify(
      syncBody(t, [
        upsert("huge", { n: "HUGE" }),
        upsert("long", { deep: { list: [1, "LONG"] } }),
        upsert("tiny", { n: "TINY" }),
        upsert("fine", { a: 0.1, b: 9007199254740991, c: 1e21, d: -5e-324, e: 123456789.12345678, f: 1.7976931348623157e308 }),
      ]),
    )
      .replace(`"HUGE"`, "1e400")
      .replace(`"LONG"`, "123456789012345678901234567890")
      .replace(`"TINY"`, "1e-400");
    const res = await rawSync(t, text);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: 3, stale: 0 });
    const byId = Object.fromEntries(res.body.errors.map((e: any) => [e.id, e]));
    expect(byId.huge).toMatchObject({ code: "INVALID_OPERATION" });
    expect(byId.huge.message).toContain("data.n");
    expect(byId.long.message).toContain("data.deep.list.1");
    expect(byId.tiny.message).toContain("data.n");
    expect((await getRecord(t, "clickup_tasks", "fine")).body.data).toEqual({
      a: 0.1,
      b: 9007199254740991,
      c: 1e21,
      d: -5e-324,
      e: 123456789.12345678,
      f: 1.7976931348623157e308,
    });
  });

  it("ids and namespaces '.' and '..' are refused at sync (no URL can read them)", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      upsert(".", { v: 1 }),
      upsert("..", { v: 1 }),
      upsert("ok", { v: 1 }, "."),
      upsert("ok", { v: 1 }, ".."),
      upsert("...", { v: 1 }),
      upsert("a.b", { v: 1 }, "x..y"),
    ]);
    expect(res.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 4, stale: 0 });
    expect((await getRecord(t, "clickup_tasks", "...")).status).toBe(200);
    expect((await getRecord(t, "x..y", "a.b")).status).toBe(200);
  });
});

describe("work per record and per request is bounded", () => {
  it("a small record with a long key over a long array (path amplification) fails alone, quickly", async () => {
    const t = await createTenant();
    const key = "k".repeat(1000);
    const res = await sync(t, [upsert("amp", { [key]: Array(50_000).fill(0) }), upsert("ok", { title: "fine" })]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(res.body.errors[0]).toMatchObject({ id: "amp", code: "RECORD_TOO_LARGE" });
    await expectHealthy(t);
    await expectIndexMatchesLedger(t.store);
  });

  it("a record whose text would make more chunks than allowed fails alone", async () => {
    const t = await createTenant();
    // Punctuation is one token a character: about 250,000 tokens in a 250 KB record.
    const res = await sync(t, [upsert("many", { csv: ",".repeat(250_000) }), upsert("ok", { title: "fine" })]);
    expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(res.body.errors[0]).toMatchObject({ id: "many", code: "RECORD_TOO_LARGE" });
    expect(res.body.errors[0].message).toContain("chunks");
  });

  it("a request over the chunk budget applies what fits and fails the rest with a retryable code", async () => {
    const t = await createTenant();
    // 60 records of 200 chunks each = 12,000 chunks; the budget is 10,000 per request.
    const record = (i: number) => upsert(`r${i}`, { text: Array.from({ length: 200 }, () => ";".repeat(399)).join(" ") + ` ${i}` });
    const res = await sync(
      t,
      Array.from({ length: 60 }, (_, i) => record(i)),
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("partial_success");
    const failed = res.body.errors.filter((e: any) => e.code === "REQUEST_CHUNK_BUDGET_EXCEEDED");
    expect(failed.length).toBe(res.body.results.failed);
    expect(res.body.results.upserted + res.body.results.failed).toBe(60);
    expect(res.body.results.upserted).toBeGreaterThan(40);
    expect(res.body.results.failed).toBeGreaterThan(0);
    // The failed ones were not written, and sending them again applies them.
    const rows = new Set((await ledgerRows(t.store)).map((r) => r.id));
    for (const e of failed) expect(rows.has(e.id)).toBe(false);
    await expectIndexMatchesLedger(t.store);
    const retry = await sync(
      t,
      failed.map((e: any) => record(Number(e.id.slice(1)))),
    );
    expect(retry.body.results).toEqual({ upserted: failed.length, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
  }, 120_000);
});

describe("answers stay bounded whatever the operations hold", () => {
  it("5000 failing operations with the longest ids list 500 errors, and the stored result still fits its D1 row", async () => {
    const t = await createTenant();
    // Control characters are escaped to six bytes each in JSON: the widest an id can be stored.
    const id = (i: number) => `${"\u0001".repeat(250)}${String(i).padStart(5, "0")}`;
    const ops = Array.from({ length: 5000 }, (_, i) => ({ action: "upsert", id: id(i), namespace: `ns_${i}`, data: {} }));
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("failed");
    expect(res.body.results.failed).toBe(5000);
    expect(res.body.errors).toHaveLength(500);
    expect(res.body.errors_omitted).toBe(4500);
    expect(Object.keys(res.body.by_namespace)).toHaveLength(5000);
    const stored = await call("GET", `/v1/connectors/pipeline/syncs/${res.body.sync_id}`, undefined, { "X-API-Key": t.key });
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as any).errors_omitted).toBe(4500);
  }, 60_000);

  it("an error message quoting a long client key is clipped", async () => {
    const t = await createTenant();
    const text = JSON.stringify(syncBody(t, [upsert("k", { ["k".repeat(100_000)]: "HUGE" })])).replace(`"HUGE"`, "1e400");
    const res = await rawSync(t, text);
    expect(res.body.errors[0].code).toBe("INVALID_OPERATION");
    expect(res.body.errors[0].message.length).toBeLessThanOrEqual(300);
  });
});
