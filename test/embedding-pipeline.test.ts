import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { getVectorStore } from "../src/db/vector-stores";
import { checkAndRunSync } from "./support/run-sync";
import { retryPolicy, vectorDeps } from "../src/store/deps";
import { DEFAULT_EMBED_CALLS_IN_FLIGHT } from "../src/vectors/vector-sync";
import { createTenant, ledgerRows } from "./support/helpers";
import { expectIndexMatchesLedger } from "./support/stand-ins";
import { indexOfStore, ledgerOfStore } from "./support/placement";
import type { EmbeddingBinding, VectorIndexBinding } from "../src/model/bindings";

/** Spies on the binding path: how many embedding calls are open at once, and the order of events. */
function spies(target: VectorIndexBinding = env.VECTORIZE) {
  const log: string[] = [];
  let open = 0;
  let maxOpen = 0;
  const ai: EmbeddingBinding = {
    run: async (model, inputs) => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      log.push("embed start");
      try {
        return await env.AI.run(model, inputs);
      } finally {
        open -= 1;
      }
    },
  };
  const index: VectorIndexBinding = {
    upsert: (vectors) => {
      log.push("upsert start");
      return target.upsert(vectors);
    },
    deleteByIds: (ids) => target.deleteByIds(ids),
    getByIds: (ids) => target.getByIds(ids),
    query: (v, o) => target.query(v, o),
    describe: () => target.describe(),
  };
  return { ai, index, log, maxOpen: () => maxOpen };
}

/** 3000 one-chunk records: 30 embedding calls, 3 upserts. */
const operations = Array.from({ length: 3000 }, (_, i) => ({
  action: "upsert",
  id: `r${i}`,
  namespace: "tasks",
  data: { title: `task ${i}`, body: `word${i} another${i}` },
}));

it.each([1, 3, DEFAULT_EMBED_CALLS_IN_FLIGHT])(
  "keeps at most %i embedding calls in flight, starts writing vectors while embedding goes on, and embeds each text once",
  async (inFlight) => {
    const t = await createTenant();
    const store = (await getVectorStore(env.DB, t.store))!;
    const { ai, index, log, maxOpen } = spies(await indexOfStore(t.store));
    const deps = { db: await ledgerOfStore(t.store), ai, index, retry: retryPolicy(env), embedCallsInFlight: inFlight };
    const res = await checkAndRunSync(deps, store, { mode: "incremental", syncTimestamp: "2026-01-15T10:00:00Z", operations });
    expect(res.results).toMatchObject({ upserted: 3000, failed: 0 });
    expect(log.filter((e) => e === "embed start")).toHaveLength(30);
    expect(maxOpen()).toBe(inFlight);
    // A continuous pipeline: the first 1000 vectors go to the index before the last call starts.
    expect(log.indexOf("upsert start")).toBeLessThan(log.lastIndexOf("embed start"));
    expect(log.filter((e) => e === "upsert start")).toHaveLength(3);
    expect(await ledgerRows(t.store)).toHaveLength(3000);
    await expectIndexMatchesLedger(t.store);
  },
);

it("one slow embedding call does not hold up the others (no wave waits for its slowest call)", async () => {
  const t = await createTenant();
  const store = (await getVectorStore(env.DB, t.store))!;
  const { index } = spies(await indexOfStore(t.store));
  let started = 0;
  let startedWhileSlowOpen = 0;
  let releaseSlow: () => void = () => {};
  const slowDone = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
  let slowOpen = false;
  const ai: EmbeddingBinding = {
    run: async (model, inputs) => {
      started += 1;
      if (started === 1) {
        slowOpen = true;
        await slowDone; // held until 20 more calls have started
        slowOpen = false;
      } else if (slowOpen) {
        startedWhileSlowOpen += 1;
        if (startedWhileSlowOpen === 20) releaseSlow();
      }
      return env.AI.run(model, inputs);
    },
  };
  const deps = { db: await ledgerOfStore(t.store), ai, index, retry: retryPolicy(env), embedCallsInFlight: 4 };
  const res = await checkAndRunSync(deps, store, { mode: "incremental", syncTimestamp: "2026-01-15T10:00:00Z", operations });
  expect(res.results.upserted).toBe(3000);
  expect(startedWhileSlowOpen).toBe(20);
  await expectIndexMatchesLedger(t.store);
});

it("takes the number of calls in flight from EMBED_CALLS_IN_FLIGHT, 8 when unset or invalid", () => {
  expect(vectorDeps({ ...env, EMBED_CALLS_IN_FLIGHT: "3" }, { index: 0 }).embedCallsInFlight).toBe(3);
  expect(vectorDeps({ ...env, EMBED_CALLS_IN_FLIGHT: undefined }, { index: 0 }).embedCallsInFlight).toBeUndefined();
  expect(vectorDeps({ ...env, EMBED_CALLS_IN_FLIGHT: "0" }, { index: 0 }).embedCallsInFlight).toBeUndefined();
  expect(DEFAULT_EMBED_CALLS_IN_FLIGHT).toBe(8);
});
