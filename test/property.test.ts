import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { FaultPlan } from "../src/local/faults";
import { checkAndRunSync, insertTestStore } from "./support/run-sync";
import { retryPolicy } from "../src/store/deps";
import { failingD1 } from "./support/faulty-d1";
import { expectStoreMatchesModel, type ModelRequest } from "./support/model";
import { ai, expectKeywordsMatchLedger } from "./support/stand-ins";

// Injected faults make the engine warn about upstream failures, by design; not this test's output.
beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(async () => {
  await ai.clearFaults();
  vi.restoreAllMocks();
});

const ids = ["a", "b", "c", "d", "e"];
const namespaces = ["tasks", "docs"];
const contents = [
  { title: "alpha" },
  { title: "beta", body: "short" },
  // Long enough for several chunks, so that updates grow and shrink records.
  { title: "gamma", body: Array.from({ length: 900 }, (_, k) => `g${k}`).join(" ") },
  { title: "delta", body: Array.from({ length: 450 }, (_, k) => `d${k}`).join(" ") },
];

const operation = fc.record({
  action: fc.constantFrom("upsert", "upsert", "delete") as fc.Arbitrary<"upsert" | "delete">,
  id: fc.constantFrom(...ids),
  namespace: fc.constantFrom(...namespaces),
  content: fc.nat(contents.length - 1),
});

type Fault = { kind: "none" } | { kind: "stand-in"; plan: FaultPlan } | { kind: "d1"; failAt: number };

// Faults: the embedder and the index (the local stand-ins' own switches, set through their
// bindings), a batch that half-applies, a timeout, and D1 failing at a round trip. The engine
// calls the stand-ins over RPC, as every sync in `npm run dev` does.
const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => ({ kind: "stand-in" as const, plan: { failNext: { embed: n } } })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => ({ kind: "stand-in" as const, plan: { failNext: { upsert: n } } })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => ({ kind: "stand-in" as const, plan: { failNext: { deleteByIds: n } } })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "stand-in" as const, plan: { halfApplyNext: 4 } }) },
  { weight: 1, arbitrary: fc.constant({ kind: "stand-in" as const, plan: { failNext: { upsert: 1 }, delayMs: 5 } }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }).map((failAt) => ({ kind: "d1" as const, failAt })) },
);

const request = fc.record({
  refresh: fc.boolean(),
  // A full_refresh as one request (0), or as a run of 2 or 3 parts, the last one "final": true.
  parts: fc.constantFrom(0, 0, 2, 3),
  ops: fc.array(operation, { minLength: 0, maxLength: 6 }),
  fault,
  faultyPart: fc.nat(2),
});

let storeCounter = 0;

it("random syncs with random injected faults, each retried until it succeeds, end in the model's state", async () => {
  const retry = { ...retryPolicy(env), baseDelayMs: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 5 }), async (sequence) => {
      const store = await insertTestStore(env.DB, `vs_prop_${++storeCounter}`, "org_prop");
      const applied: ModelRequest[] = [];
      for (const [i, r] of sequence.entries()) {
        const ts = new Date(Date.UTC(2026, 0, 1, i)).toISOString();
        const ops = r.ops.map((o) =>
          o.action === "upsert"
            ? {
                action: "upsert" as const,
                id: o.id,
                namespace: r.refresh && r.parts === 0 ? "tasks" : o.namespace,
                data: contents[o.content]!,
              }
            : { action: "delete" as const, id: o.id, namespace: r.refresh && r.parts === 0 ? "tasks" : o.namespace },
        );
        // A run's parts share the timestamp; only the final one sweeps (the namespaces of every part).
        const partCount = r.refresh && r.parts > 0 ? r.parts : 1;
        const size = Math.ceil(ops.length / partCount);
        for (let p = 0; p < partCount; p++) {
          const input = {
            mode: r.refresh ? ("full_refresh" as const) : ("incremental" as const),
            syncTimestamp: ts,
            operations: ops.slice(p * size, (p + 1) * size),
            ...(partCount > 1 ? { final: p === partCount - 1 } : {}),
          };
          // First attempt under the fault (in one part of a run), then retries of the same request until nothing fails.
          let done = false;
          for (let attempt = 0; attempt < 4 && !done; attempt++) {
            const faulty = attempt === 0 && p === r.faultyPart % partCount ? r.fault : { kind: "none" as const };
            if (faulty.kind === "stand-in") await ai.setFaults(faulty.plan);
            const db = faulty.kind === "d1" ? failingD1(env.LEDGER_0, faulty.failAt) : env.LEDGER_0;
            try {
              const res = await checkAndRunSync({ db, ai: env.AI, index: env.VECTORIZE, retry }, store, input);
              done = res.results.failed === 0 && res.errors.length === 0 && (res.sweep?.remaining ?? 0) === 0;
            } catch {
              done = false; // 503 UPSTREAM_UNAVAILABLE or the injected D1 failure: retry
            }
            await ai.clearFaults();
          }
          expect(done).toBe(true);
        }
        applied.push({ mode: r.refresh ? "full_refresh" : "incremental", ts, ops });
        // The keyword index commits with the ledger: in step after every request, faults or not.
        await expectKeywordsMatchLedger(store.id);
      }
      await expectStoreMatchesModel(store.id, applied);
    }),
    { numRuns: 200, seed: 20261128, endOnFailure: true },
  );
}, 600_000);
