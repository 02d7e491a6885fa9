import { describe, expect, it } from "vitest";
import { call, createTenant, sync, upsert, type Tenant } from "./support/helpers";

async function search(t: Tenant, body: unknown) {
  const res = await call("POST", `/v1/vector_stores/${t.store}/search`, body, { "X-API-Key": t.key });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}
const ids = (r: { body: { results: { record_id: string }[] } }) => r.body.results.map((x) => x.record_id);

describe("search filter: validated against Vectorize's grammar before any upstream call", () => {
  it("an unknown operator is a 400 VALIDATION_ERROR naming the field and the supported operators, not a 503", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "open ticket", status: "open" })]);
    const res = await search(t, { query: "ticket", filter: { status: { $regex: "o" } } });
    expect(res.status).toBe(400);
    expect(res.headers.get("Retry-After")).toBeNull();
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    const fields = res.body.error.details.fields as Record<string, string[]>;
    expect(Object.keys(fields)).toEqual(["filter.status"]);
    expect(fields["filter.status"]!.join(" ")).toMatch(/\$regex/);
    expect(fields["filter.status"]!.join(" ")).toMatch(/\$eq.*\$ne.*\$lt.*\$lte.*\$gt.*\$gte.*\$in.*\$nin/);
  });

  it("refuses what Vectorize refuses: bad operands, keys, combinations, sizes; each names the filter", async () => {
    const t = await createTenant();
    const bad: [string, unknown][] = [
      ["not an object", "status=open"],
      ["array", [{ status: "open" }]],
      ["nested object value", { status: { nested: "x" } }],
      ["array value (implicit $eq)", { status: ["open"] }],
      ["empty operator object", { status: {} }],
      ["$eq with object", { status: { $eq: { a: 1 } } }],
      ["$eq with array", { status: { $eq: ["open"] } }],
      ["$lt with boolean", { n: { $lt: true } }],
      ["$gte with null", { n: { $gte: null } }],
      ["$in not an array", { status: { $in: "open" } }],
      ["$in empty", { status: { $in: [] } }],
      ["$in with object", { status: { $in: [{ a: 1 }] } }],
      ["$nin nested array", { status: { $nin: [["open"]] } }],
      ["two upper bounds", { n: { $lt: 5, $lte: 4 } }],
      ["two lower bounds", { n: { $gt: 1, $gte: 2 } }],
      ["$eq with a range", { n: { $eq: 3, $lt: 5 } }],
      ["$in with $nin", { n: { $in: [1], $nin: [2] } }],
      ["empty key", { "": "x" }],
      ["key starting with $", { $status: "open" }],
      ["key with a double quote", { 'sta"tus': "open" }],
      ["key over 512 characters", { ["k".repeat(513)]: "x" }],
      ["too many fields", Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, i]))],
      ["JSON over the size limit", { status: { $in: Array.from({ length: 200 }, (_, i) => `value-${i}`) } }],
      ["operator key at the top", { $and: [{ a: 1 }] }],
    ];
    for (const [why, filter] of bad) {
      const res = await search(t, { query: "x", filter });
      expect(res.status, why).toBe(400);
      expect(res.body.error.code, why).toBe("VALIDATION_ERROR");
      const fields = Object.keys(res.body.error.details.fields);
      expect(fields.length, why).toBeGreaterThan(0);
      for (const f of fields) expect(f === "filter" || f.startsWith("filter."), `${why}: ${f}`).toBe(true);
    }
  });

  it("accepts every documented form: implicit $eq, each operator, range pairs, $in/$nin with null, dotted keys", async () => {
    const t = await createTenant({ metadataFields: ["status", "n", "flag", "pandas.nice"] });
    await sync(t, [
      upsert("a", { title: "alpha" }, "clickup_tasks", { metadata: { status: "open", n: 3, flag: true } }),
      upsert("b", { title: "beta" }, "clickup_tasks", { metadata: { status: "done", n: 7, flag: false } }),
    ]);
    const good: [unknown, string[]][] = [
      [{ status: "open" }, ["a"]],
      [{ flag: false }, ["b"]],
      [{ status: { $eq: "done" } }, ["b"]],
      [{ status: { $ne: "done" } }, ["a"]],
      [{ n: { $gt: 3 } }, ["b"]],
      [{ n: { $gte: 3, $lt: 7 } }, ["a"]],
      [{ n: { $lte: 7, $gt: 0 } }, ["a", "b"]],
      [{ status: { $gte: "d", $lt: "e" } }, ["b"]],
      [{ status: { $in: ["open", null, 1, true] } }, ["a"]],
      [{ status: { $nin: ["open"] } }, ["b"]],
      [{ "pandas.nice": 42 }, []],
      [{ status: null }, []],
      [{}, ["a", "b"]],
    ];
    for (const [filter, expected] of good) {
      const res = await search(t, { query: "alpha beta", filter });
      expect(res.status, JSON.stringify(filter)).toBe(200);
      expect(ids(res).sort(), JSON.stringify(filter)).toEqual(expected);
    }
  });

  it("__proto__, constructor and toString are field names like any other: no crash, no pollution, own metadata only", async () => {
    const t = await createTenant({ metadataFields: ["constructor", "__proto__", "toString", "hasOwnProperty", "status"] });
    await sync(t, [
      upsert("plain", { title: "plain record" }),
      upsert("ctor", { title: "record with odd keys" }, "clickup_tasks", {
        metadata: JSON.parse('{"constructor": "b", "__proto__": "p", "toString": "t"}'),
      }),
    ]);
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    // A range on a key only Object.prototype has: the prototype's function must not be compared.
    for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const body = JSON.parse(`{"query": "record", "filter": {"${key}": {"$gte": ""}}}`);
      const res = await search(t, body);
      expect(res.status, key).toBe(200);
      expect(ids(res), key).toEqual(key === "hasOwnProperty" ? [] : ["ctor"]);
    }
    const eq = await search(t, JSON.parse('{"query": "record", "filter": {"__proto__": "p", "constructor": {"$in": ["b"]}}}'));
    expect(eq.status).toBe(200);
    expect(ids(eq)).toEqual(["ctor"]);
    // A bad operand under __proto__ is named like any other field.
    const bad = await search(t, JSON.parse('{"query": "record", "filter": {"__proto__": {"$regex": "x"}}}'));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields)).toEqual(["filter.__proto__"]);
    // Operator objects with prototype-named keys are unknown operators, not crashes.
    const op = await search(t, JSON.parse('{"query": "record", "filter": {"status": {"__proto__": 1}}}'));
    expect(op.status).toBe(400);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });
});

describe("search namespaces", () => {
  it("a namespace named twice is searched once: no hit is returned twice", async () => {
    const t = await createTenant();
    await sync(t, [
      upsert("a", { title: "walrus tusk" }, "ns"),
      upsert("b", { title: "walrus whiskers" }, "ns"),
      upsert("c", { title: "walrus" }, "other"),
    ]);
    const twice = await search(t, { query: "walrus", namespace: ["ns", "ns"] });
    expect(twice.status).toBe(200);
    expect(ids(twice).sort()).toEqual(["a", "b"]);
    const mixed = await search(t, { query: "walrus", namespace: ["ns", "other", "ns", "other"], top_k: 50 });
    expect(ids(mixed).sort()).toEqual(["a", "b", "c"]);
    const keys = mixed.body.results.map((r: any) => `${r.namespace}/${r.record_id}/${r.chunk}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("search rate limit", () => {
  it("more than 300 searches a minute for one organization -> 429 with Retry-After; reads and others unaffected", async () => {
    const t = await createTenant();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof search>> | null = null;
    // Cheap requests (no embedding, no index query): the limiter runs before the body is read, so
    // invalid searches count too. Fixed 60-second windows: a run crossing a boundary starts a fresh
    // window, so up to 600 requests are allowed before the 429 has to come.
    for (let i = 0; i < 601 && !limited; i++) {
      const res = await search(t, {});
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited).not.toBeNull();
    expect(statuses.slice(0, 300).every((s) => s === 400)).toBe(true);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(300);
    expect(limited!.body.error).toMatchObject({
      code: "RATE_LIMIT_EXCEEDED",
      type: "rate_limit_error",
      status: 429,
      details: { limit: 300, period_seconds: 60 },
    });
    expect(limited!.body.error.message).toMatch(/search/);
    expect(limited!.headers.get("Retry-After")).toBe("60");

    // A valid search is limited too; reads of the same organization are not, nor its syncs.
    expect((await search(t, { query: "anything" })).status).toBe(429);
    const ns = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
    expect(ns.status).toBe(200);
    const store = await call("GET", `/v1/vector_stores/${t.store}`, undefined, { "X-API-Key": t.key });
    expect(store.status).toBe(200);
    expect((await sync(t, [])).status).toBe(200);

    const other = await createTenant();
    expect((await search(other, { query: "anything" })).status).toBe(200);
  }, 120_000);
});
