import fc from "fast-check";
import { expect, it } from "vitest";
import { BASE, createTenant, type Tenant } from "./support/helpers";
import { exports } from "cloudflare:workers";
import { ledgerOfStore } from "./support/placement";

const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "\ud800", "a".repeat(300));
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom("\ud800", "\udfff", "org_\u0000", "vs_\u202e", "🚀".repeat(100)),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => "x".repeat(n)),
);
const hostileNumber = fc.oneof(fc.double(), fc.constantFrom(2 ** 53 + 1, -(2 ** 63), 1e308, -0, 5e-324), fc.integer());
const leaf = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("any"), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 8 })), tie("any"), { maxKeys: 5 }),
})).any;
const deep = fc.integer({ min: 60, max: 3000 }).map((depth) => {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { nested: v };
  return v;
});

function operation(t: Tenant) {
  return fc
    .record(
      {
        action: fc.oneof(fc.constantFrom("upsert", "delete", "UPSERT", ""), value),
        id: fc.oneof(fc.string({ maxLength: 300 }), value, fc.constantFrom("\ud800", "a".repeat(256))),
        namespace: fc.oneof(fc.constantFrom("tasks", "bad space", "n".repeat(65), "\ud800"), value),
        data: fc.oneof(value, deep, fc.constant({ __proto__: { polluted: true } }), fc.dictionary(hostileKey, leaf)),
        vector: fc.oneof(fc.array(hostileNumber, { maxLength: 10 }), value, fc.constant(Array(768).fill("1"))),
        metadata: value,
        updated_at: fc.oneof(fc.constantFrom("2026-01-15T10:00:00Z", "2026-02-30T00:00:00Z", "yesterday"), value),
      },
      { requiredKeys: [] },
    )
    .map((op) => ({ ...op, vector_store: t.store }));
}

function body(t: Tenant) {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record(
          {
            organization_id: fc.oneof(fc.constant(t.org), value),
            vector_store_id: fc.oneof(fc.constant(t.store), value),
            sync_mode: fc.oneof(fc.constantFrom("incremental", "full_refresh"), value),
            sync_timestamp: fc.oneof(fc.constant("2026-01-15T10:00:00Z"), value),
            operations: fc.oneof(fc.array(operation(t), { maxLength: 8 }), value, fc.constant(Array(5001).fill({}))),
          },
          { requiredKeys: [] },
        )
        .map((b) => JSON.stringify(b)),
    },
    { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? "") },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: deep.map((v) => JSON.stringify(v)) },
  );
}

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "text/plain",
  "",
  "application/x-www-form-urlencoded",
  "application/json;;;",
  "multipart/form-data",
);

async function written(store: string) {
  const row = await (await ledgerOfStore(store))
    .prepare(`SELECT (SELECT count(*) FROM records WHERE vector_store_id = ?1) AS records,
                                           (SELECT count(*) FROM syncs WHERE vector_store_id = ?1) AS syncs`)
    .bind(store)
    .first<{ records: number; syncs: number }>();
  return row!;
}

it("hostile bodies and headers: never a 5xx, always the envelope, nothing written when refused, no pollution", async () => {
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  let tenant = await createTenant();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.tuple(fc.nat(), contentType, fc.constantFrom("key", "none", "bearer", "wrong")), async ([seed, type, auth]) => {
      if (++sent % 80 === 0) tenant = await createTenant(); // stay under the per-organization rate limit
      const [text] = fc.sample(body(tenant), { seed, numRuns: 1 });
      const headers: Record<string, string> = {};
      if (type) headers["Content-Type"] = type;
      if (auth === "key") headers["X-API-Key"] = tenant.key;
      if (auth === "bearer") headers.Authorization = `Bearer ${tenant.key}`;
      if (auth === "wrong") headers["X-API-Key"] = "usk_\ud800".slice(0, 4) + "x".repeat(60);
      const before = await written(tenant.store);
      const res = await exports.default.fetch(new Request(`${BASE}/v1/connectors/pipeline/sync`, { method: "POST", headers, body: text }));
      expect(res.status).toBeLessThan(500);
      const json = (await res.json()) as any;
      if (res.status !== 200) {
        expect(json.success).toBe(false);
        expect(typeof json.error.code).toBe("string");
        expect(json.error.trace_id).toBe(res.headers.get("X-Request-Id"));
        expect(await written(tenant.store)).toEqual(before);
      } else {
        expect(json.processed).toBe(
          json.results.upserted + json.results.deleted + json.results.unchanged + json.results.failed + json.results.stale,
        );
      }
      expect(({} as any).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    }),
    { numRuns: 250, seed: 7 },
  );
}, 300_000);

// --- hostile values in every position, sent as text so raw literals and bytes get through -----

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);
const protoName = fc.constantFrom(...PROTO_NAMES);
/** Number literals at and past the edges of float32, float64 and safe integers, as written. */
const numberLiteral = fc.constantFrom(
  "3.4028234663852886e38",
  "3.4028235677973366e38",
  "1e39",
  "-1e39",
  "1.7976931348623157e308",
  "1.7976931348623159e308",
  "1e400",
  "-1e400",
  "5e-324",
  "2e-324",
  "1e-400",
  "9007199254740991",
  "9007199254740993",
  "-9007199254740993",
  "123456789012345678901234567890",
  "0.1000000000000000055511151231257827",
  "1e-7",
  "-0",
  "0e0",
);
const timestampText = fc
  .tuple(
    fc.constantFrom("0000", "0001", "9999", "10000", "2026"),
    fc.constantFrom("", ".1234", ".123456789", ".1234567890"),
    fc.constantFrom("Z", "+14:00", "-14:00", "+00:30", "-02:00"),
  )
  .map(([year, fraction, zone]) => `${year}-12-31T23:59:59${fraction}${zone}`);
const nestingDepth = fc.constantFrom(1, 60, 64, 65, 70, 72, 73, 200, 5000);
const nested = (depth: number, inner: string) => "[".repeat(depth - 1) + `{"x":${inner}}` + "]".repeat(depth - 1);
const amplification = fc.constantFrom(
  () => `{"${"k".repeat(1000)}":[${Array(20_000).fill(0).join(",")}]}`,
  () => `{"csv":"${"1,".repeat(60_000)}"}`,
  () => `{"list":[${Array(30_000).fill('"a"').join(",")}]}`,
  () => `{"words":"${"lorem ".repeat(40_000)}"}`,
);

function hostileOperation() {
  return fc
    .record({
      namespace: fc.oneof(protoName, fc.constantFrom("tasks", ".", "..")),
      id: fc.oneof(protoName, fc.constantFrom("x", ".", "..", "\\u00e9")),
      dataKey: fc.oneof(protoName, fc.constant("title")),
      metaKey: fc.oneof(protoName, fc.constant("tag")),
      value: fc.oneof(
        numberLiteral,
        fc.constant('"text"'),
        nestingDepth.map((d) => nested(d, "1")),
      ),
      vector: fc.option(fc.tuple(fc.nat({ max: 767 }), numberLiteral), { nil: undefined }),
      updatedAt: fc.option(timestampText, { nil: undefined }),
      big: fc.option(amplification, { nil: undefined, freq: 6 }),
    })
    .map((o) => {
      const vector = o.vector
        ? `,"vector":[${Array.from({ length: 768 }, (_, i) => (i === o.vector![0] ? o.vector![1] : "0.5")).join(",")}]`
        : "";
      const data = o.big ? o.big() : `{${JSON.stringify(o.dataKey)}:${o.value},"title":"t"}`;
      return (
        `{"action":"upsert","namespace":${JSON.stringify(o.namespace)},"id":${JSON.stringify(o.id)},"data":${data},` +
        `"metadata":{${JSON.stringify(o.metaKey)}:"m"}${vector}${o.updatedAt ? `,"updated_at":"${o.updatedAt}"` : ""}}`
      );
    });
}

const invalidUtf8 = fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]);

it("hostile keys, numbers, timestamps, depths, amplification and bytes: never a 5xx, and the service stays up", async () => {
  let tenant = await createTenant();
  let sent = 0;
  const send = async (bytes: Uint8Array | string, path = "/v1/connectors/pipeline/sync") => {
    const res = await exports.default.fetch(
      new Request(`${BASE}${path}`, {
        method: "POST",
        body: bytes,
        headers: { "X-API-Key": tenant.key, "Content-Type": "application/json" },
      }),
    );
    return { status: res.status, body: (await res.json()) as any };
  };
  await fc.assert(
    fc.asyncProperty(
      fc.array(hostileOperation(), { minLength: 1, maxLength: 6 }),
      timestampText,
      fc.option(invalidUtf8, { nil: undefined, freq: 5 }),
      fc.record({ key: protoName, op: fc.constantFrom("$eq", "$ne", "$in", "$regex", "__proto__") }),
      async (operations, syncTimestamp, badBytes, filter) => {
        if (++sent % 30 === 0) tenant = await createTenant(); // three requests a case, under the rate limit
        const text =
          `{"organization_id":"${tenant.org}","vector_store_id":"${tenant.store}","sync_mode":"full_refresh",` +
          `"sync_timestamp":"${syncTimestamp}","operations":[${operations.join(",")}]}`;
        let bytes = new TextEncoder().encode(text);
        if (badBytes) {
          const at = text.indexOf('"id":"') + 6;
          bytes = new Uint8Array([...bytes.slice(0, at), ...badBytes, ...bytes.slice(at)]);
        }
        const res = await send(bytes);
        expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBeLessThan(500);
        if (res.status === 200) {
          const r = res.body.results;
          expect(res.body.processed).toBe(operations.length);
          expect(r.upserted + r.unchanged + r.failed + r.stale).toBe(operations.length);
          expect(Object.keys(res.body.by_namespace).every((ns) => typeof res.body.by_namespace[ns].failed === "number")).toBe(true);
        } else {
          expect(res.body.success).toBe(false);
        }
        const operand = filter.op === "$in" ? '["m"]' : '"m"';
        const search = await send(
          `{"query":"t","top_k":5,"filter":{${JSON.stringify(filter.key)}:{"${filter.op}":${operand}}}}`,
          `/v1/vector_stores/${tenant.store}/search`,
        );
        expect(search.status).toBeLessThan(500);
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual([...PROTO_NAMES].sort());
        // After each case the service still answers, and a normal sync still works.
        expect((await exports.default.fetch(new Request(`${BASE}/health`))).status).toBe(200);
        const normal = await send(
          JSON.stringify({
            organization_id: tenant.org,
            vector_store_id: tenant.store,
            sync_mode: "incremental",
            sync_timestamp: "2026-01-15T10:00:00Z",
            operations: [{ action: "upsert", id: "probe", namespace: "probe", data: { ok: sent } }],
          }),
        );
        expect(normal.status).toBe(200);
        expect(normal.body.results.failed).toBe(0);
      },
    ),
    { numRuns: 120, seed: 11 },
  );
}, 600_000);

// --- wide and flat shapes at every position (the memory worst cases, small enough to stay fast) -----

/** JSON text of a wide value: `width` items of one kind in an array, or as many keys in an object, or one long string. */
const wideShape = fc
  .tuple(
    fc.constantFrom("array", "object", "string"),
    fc.constantFrom("0", '""', "null", "{}", "[]", '"ab"', "1e400"),
    fc.constantFrom(1, 1537, 20_000, 200_000, 600_000),
  )
  .map(([kind, item, width]) => {
    if (kind === "string") return `"${"w".repeat(width)}"`;
    if (kind === "array") return `[${`${item},`.repeat(width - 1)}${item}]`;
    return `{${Array.from({ length: Math.min(width, 100_000) }, (_, i) => `"k${i}":${item}`).join(",")}}`;
  });
const widePosition = fc.constantFrom(
  "data",
  "data.inner",
  "file",
  "file.extra",
  "metadata",
  "metadata.inner",
  "vector",
  "text",
  "id",
  "namespace",
  "envelope.extra",
  "envelope.namespaces",
  "operations",
  "search.filter",
  "search.filter.in",
  "search.namespace",
  "search.vector",
);

it("wide and flat shapes at every position: never a 5xx, counts add up, the service stays up", async () => {
  let tenant = await createTenant();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(widePosition, wideShape, fc.boolean(), async (position, wide, gzip) => {
      if (++sent % 30 === 0) tenant = await createTenant(); // two requests a case, under the rate limit
      const op = (field: string, value: string) =>
        `{"action":"upsert","id":"w","namespace":"wide","data":{"title":"t"}${field ? `,${JSON.stringify(field)}:${value}` : ""}}`;
      const envelope = (operations: string, extra = "") =>
        `{"organization_id":"${tenant.org}","vector_store_id":"${tenant.store}","sync_mode":"full_refresh","sync_timestamp":"2026-01-15T10:00:00Z"${extra},"operations":${operations}}`;
      let path = "/v1/connectors/pipeline/sync";
      let text: string;
      const [where, inner] = position.split(".") as [string, string | undefined];
      if (where === "search") {
        path = `/v1/vector_stores/${tenant.store}/search`;
        text =
          inner === "filter"
            ? `{"query":"q","filter":${wide}}`
            : inner === "in"
              ? `{"query":"q","filter":{"a":{"$in":${wide}}}}`
              : inner === "namespace"
                ? `{"query":"q","namespace":${wide}}`
                : `{"vector":${wide}}`;
      } else if (where === "envelope") {
        text = inner === "extra" ? envelope("[]", `,"extra":${wide}`) : envelope(`[${op("", "")}]`, `,"final":true,"namespaces":${wide}`);
      } else if (where === "operations") {
        text = envelope(wide.startsWith("[") ? wide : `[${wide}]`);
      } else if (inner) {
        text = envelope(`[${op(where, `{"inner":${wide}}`)}]`);
      } else {
        text = envelope(`[${where === "data" ? op("", "").replace('{"title":"t"}', wide) : op(where, wide)}]`);
      }
      let body: Uint8Array = new TextEncoder().encode(text);
      const headers: Record<string, string> = { "X-API-Key": tenant.key, "Content-Type": "application/json" };
      if (gzip && where !== "search") {
        body = new Uint8Array(await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
        headers["Content-Encoding"] = "gzip";
      }
      const res = await exports.default.fetch(new Request(`${BASE}${path}`, { method: "POST", headers, body }));
      expect(res.status, `${position} ${wide.slice(0, 40)}`).toBeLessThan(500);
      const json = (await res.json()) as any;
      if (res.status === 200 && json.results) {
        const r = json.results;
        expect(json.processed).toBe(r.upserted + r.deleted + r.unchanged + r.failed);
      } else if (res.status !== 200) {
        expect(json.success).toBe(false);
      }
      expect((await exports.default.fetch(new Request(`${BASE}/health`))).status).toBe(200);
    }),
    { numRuns: 60, seed: 19 },
  );
}, 300_000);
