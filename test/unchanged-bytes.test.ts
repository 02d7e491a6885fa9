import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { retryPolicy } from "../src/store/deps";
import { checkAndRunSyncFromBytes, insertTestStore } from "./support/run-sync";
import { expectIndexMatchesLedger } from "./support/stand-ins";

// The unchanged-bytes path (an upsert whose bytes are its record's last applied operation's is not
// parsed) must give exactly the answers and the ledger the full check gives: the same random
// requests, as bytes, run against two stores, one with the path on and one with it off.

const ids = ["a", "b", "c"];
const namespaces = ["tasks", "docs"];
const contents = [
  { title: "alpha", n: 1 },
  { title: "beta", body: "short" },
  { title: "gamma", n: 2.5 },
];
// Two texts of one instant, an older and a newer one, none, and one the check refuses.
const updatedAts = [null, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00Z", "yesterday"];

const operation = fc.record({
  action: fc.constantFrom("upsert", "upsert", "upsert", "delete"),
  id: fc.constantFrom(...ids),
  namespace: fc.constantFrom(...namespaces),
  content: fc.nat(contents.length - 1),
  updatedAt: fc.nat(updatedAts.length - 1),
  // The same content in another key order: other bytes, the same record.
  reordered: fc.boolean(),
});
type Op = typeof operation extends fc.Arbitrary<infer T> ? T : never;
const request = fc.record({
  refresh: fc.boolean(),
  // 0: a new sync_timestamp; 1: the previous request's again.
  sameTimestamp: fc.boolean(),
  ops: fc.array(operation, { minLength: 0, maxLength: 8 }),
});

function toOperation(o: Op) {
  const updated = updatedAts[o.updatedAt];
  const extra = updated ? { updated_at: updated } : {};
  if (o.action === "delete") return { action: "delete", id: o.id, namespace: o.namespace, ...extra };
  const content = contents[o.content]!;
  const data = o.reordered ? Object.fromEntries(Object.entries(content).reverse()) : content;
  return { action: "upsert", id: o.id, namespace: o.namespace, data, ...extra };
}

let storeCounter = 0;
async function newStore() {
  return insertTestStore(env.DB, `vs_bytes_${++storeCounter}`, "org_bytes");
}

async function ledgerOf(store: string) {
  const { results } = await env.LEDGER_0.prepare(
    `SELECT s.namespace, s.id, s.deleted, b.data, s.content_hash, s.chunk_count, s.chunk_hashes, s.op_hash, s.version,
            s.created_at, s.updated_at, s.synced_at
     FROM record_state s LEFT JOIN record_bodies b ON b.body_id = s.body_id
     WHERE s.vector_store_id = ?1 ORDER BY s.namespace, s.id`,
  )
    .bind(store)
    .all();
  return results;
}

it("the unchanged-bytes path and the full check give identical answers and ledgers on random bodies", async () => {
  const retry = { ...retryPolicy(env), baseDelayMs: 0 };
  const deps = { db: env.LEDGER_0, ai: env.AI, index: env.VECTORIZE, retry };
  let unreadTotal = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (sequence) => {
      const fast = await newStore();
      const full = await newStore();
      let hour = 0;
      // Earlier requests' operations are sent again as they were: the same bytes.
      const sent: unknown[] = [];
      for (const r of sequence) {
        if (!r.sameTimestamp) hour += 1;
        const fresh = r.ops.map(toOperation);
        const operations = [...fresh, ...sent.slice(0, r.ops.length % 4)];
        sent.unshift(...fresh);
        const input = {
          mode: r.refresh ? ("full_refresh" as const) : ("incremental" as const),
          syncTimestamp: new Date(Date.UTC(2026, 1, 1, hour)).toISOString(),
          operations,
        };
        const outcome = async (on: boolean) => {
          try {
            const { response, unread } = await checkAndRunSyncFromBytes(deps, on ? fast : full, input, on);
            unreadTotal += unread;
            const { sync_id: _id, processing_time_ms: _ms, ...rest } = response;
            return rest;
          } catch (err) {
            return { thrown: (err as { code?: string }).code ?? String(err) };
          }
        };
        const withPath = await outcome(true);
        const without = await outcome(false);
        expect(withPath).toEqual(without);
      }
      const rows = (store: string) => ledgerOf(store).then((xs) => xs.map(({ ...row }) => row));
      expect(await rows(fast.id)).toEqual(await rows(full.id));
      await expectIndexMatchesLedger(fast.id);
      await expectIndexMatchesLedger(full.id);
    }),
    { numRuns: 60, seed: 20261202, endOnFailure: true },
  );
  // Not vacuous: the path was taken (16 times with this seed).
  expect(unreadTotal).toBeGreaterThan(10);
}, 600_000);
