import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { BASE, createTenant, type Tenant } from "./helpers";
import { exports } from "cloudflare:workers";

const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "\ud800", "a".repeat(300));
const hostileString = fc.oneof(
  fc.string(), fc.string({ unit: "grapheme", maxLength: 50 }), fc.constantFrom("\ud800", "\udfff", "org_\u0000", "vs_\u202e", "🚀".repeat(100)),
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
  return fc.record({
    action: fc.oneof(fc.constantFrom("upsert", "delete", "UPSERT", ""), value),
    id: fc.oneof(fc.string({ maxLength: 300 }), value, fc.constantFrom("\ud800", "a".repeat(256))),
    namespace: fc.oneof(fc.constantFrom("tasks", "bad space", "n".repeat(65), "\ud800"), value),
    data: fc.oneof(value, deep, fc.constant({ __proto__: { polluted: true } }), fc.dictionary(hostileKey, leaf)),
    vector: fc.oneof(fc.array(hostileNumber, { maxLength: 10 }), value, fc.constant(Array(768).fill("1"))),
    metadata: value,
    updated_at: fc.oneof(fc.constantFrom("2026-01-15T10:00:00Z", "2026-02-30T00:00:00Z", "yesterday"), value),
  }, { requiredKeys: [] }).map((op) => ({ ...op, vector_store: t.store }));
}

function body(t: Tenant) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({
      organization_id: fc.oneof(fc.constant(t.org), value),
      vector_store_id: fc.oneof(fc.constant(t.store), value),
      sync_mode: fc.oneof(fc.constantFrom("incremental", "full_refresh"), value),
      sync_timestamp: fc.oneof(fc.constant("2026-01-15T10:00:00Z"), value),
      operations: fc.oneof(fc.array(operation(t), { maxLength: 8 }), value, fc.constant(Array(5001).fill({}))),
    }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? "") },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: deep.map((v) => JSON.stringify(v)) },
  );
}

const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
  "application/vnd.api+json", "text/plain", "", "application/x-www-form-urlencoded", "application/json;;;", "multipart/form-data");

async function written(store: string) {
  const row = await env.DB.prepare(`SELECT (SELECT count(*) FROM records WHERE vector_store_id = ?1) AS records,
                                           (SELECT count(*) FROM syncs WHERE vector_store_id = ?1) AS syncs`).bind(store)
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
        expect(json.processed).toBe(json.results.upserted + json.results.deleted + json.results.unchanged + json.results.failed);
      }
      expect(({} as any).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    }),
    { numRuns: 250, seed: 7 },
  );
}, 300_000);
