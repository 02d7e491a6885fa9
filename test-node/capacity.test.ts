// The capacity model (simulate, docs/measurements.md#capacity) behaves like the system it models:
// deterministic, more shards never lower throughput, waits grow as a shard fills up, storage
// follows bytes x ingest. No timing is asserted: the model runs on recorded calibration figures.
import { describe, expect, it } from "vitest";
import { calibrate } from "../measure/capacity/calibrate.mjs";
import { capacities, commitBusyMs, daysToFill, maxSustained, readBusyMs, simulate } from "../measure/capacity/model.mjs";
import { CALIBRATION, DEFAULTS, LIMITS } from "../measure/capacity/params.mjs";

/** Shards are the wall here: Workers AI's limit raised, the catalog off the sync path. */
const SHARD_BOUND = { aiCallsPerMinute: 30_000, catalogReadsPerSync: 0, idempotencyOnShard: true };
const short = { warmupS: 10, durationS: 60, minSyncs: 3000 };

describe("capacity model", () => {
  it("is deterministic for a seed, and the seed matters", () => {
    const a = simulate({ ...short, shards: 8, stores: 50_000 });
    const b = simulate({ ...short, shards: 8, stores: 50_000 });
    expect(b).toEqual(a);
    const c = simulate({ ...short, shards: 8, stores: 50_000, seed: 2 });
    expect(c.offered).not.toBe(a.offered);
  });

  it("charges a shard a + b x operations, by kind", () => {
    const p = { ...DEFAULTS };
    const small = { ops: 50, changed: 1 };
    const large = { ops: 5000, changed: 100 };
    expect(readBusyMs(p, large) - readBusyMs(p, small)).toBeCloseTo(4950 * CALIBRATION.read.perOpMs, 9);
    // One more changed record (and one fewer touch) costs write - touch.
    expect(commitBusyMs(p, { ops: 50, changed: 2 }) - commitBusyMs(p, small)).toBeCloseTo(
      CALIBRATION.write.perOpMs - CALIBRATION.touch.perOpMs,
      9,
    );
    const cap = capacities(p, 8);
    expect(cap.shards).toBeCloseTo(8 * cap.perShard, 6);
    expect(cap.ai).toBeCloseTo(LIMITS.aiCallsPerMinute / 60 / cap.aiCallsPerSync, 6);
  });

  it("never loses throughput with more shards, for the same load", () => {
    for (const [params, rates] of [
      [SHARD_BOUND, [50, 200, 1000]],
      [{}, [50, 200]],
    ] as const) {
      for (const ratePerS of rates) {
        let previous = 0;
        for (const shards of [1, 2, 8, 64]) {
          const r = simulate({ ...params, ...short, shards, stores: 100_000, ratePerS });
          // 1%: completions counted in a fixed window move by a few syncs at its edges.
          expect(r.sustained, `${ratePerS}/s on ${shards} shards`).toBeGreaterThanOrEqual(previous * 0.99);
          previous = r.sustained;
        }
      }
    }
  });

  it("scales with shards while they are the wall, and stops at the shared walls", () => {
    const at = (shards: number) => simulate({ ...SHARD_BOUND, ...short, shards, stores: 100_000, ratePerS: 1000 }).sustained;
    const cap = capacities(SHARD_BOUND, 1);
    expect(at(1)).toBeLessThan(cap.perShard);
    expect(at(8)).toBeGreaterThan(5 * at(1));
    // Past 8 shards Workers AI's account-wide limit binds, whatever the shard count.
    expect(at(64)).toBeLessThan(1.2 * at(8));
    // With the published limits, the account's embedding calls bind before any shard count helps.
    const published = capacities({}, 64);
    expect(published.ai).toBeLessThan(published.catalog);
    expect(published.ai).toBeLessThan(published.perShard);
  });

  it("makes a small sync wait longer as the load approaches one shard's capacity", () => {
    const cap = capacities(SHARD_BOUND, 1);
    const runs = [0.2, 0.5, 0.8, 0.95].map((f) =>
      simulate({ ...SHARD_BOUND, ...short, shards: 1, stores: 100_000, ratePerS: f * cap.perShard }),
    );
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.p99WaitMs).toBeGreaterThan(runs[i - 1]!.p99WaitMs);
    expect(runs.at(-1)!.p99WaitMs).toBeGreaterThan(4 * runs[0]!.p99WaitMs);
    // The simulated shard is as busy as the capacity figure says it should be.
    for (const r of runs) expect(Math.abs(r.util.shard - r.offered / cap.perShard)).toBeLessThan(0.05);
    // Nothing shed below capacity; overload is shed, not queued without bound.
    for (const r of runs) expect(r.shed).toBe(0);
    const over = simulate({ ...SHARD_BOUND, ...short, shards: 1, stores: 100_000, ratePerS: 3 * cap.perShard });
    expect(over.shed).toBeGreaterThan(0);
    expect(over.p99ShardWaitMs).toBeLessThanOrEqual(2 * DEFAULTS.d1QueueLimitMs);
  });

  it("finds a sustained rate that more shards do not lower", () => {
    const one = maxSustained(SHARD_BOUND, 1, { iterations: 6 });
    const eight = maxSustained(SHARD_BOUND, 8, { iterations: 6 });
    expect(one.rate).toBeGreaterThan(0);
    expect(one.rate).toBeLessThanOrEqual(one.capacities.perShard);
    expect(eight.rate).toBeGreaterThan(one.rate);
    expect(eight.at!.p99WaitMs).toBeLessThanOrEqual(DEFAULTS.sloMs);
  });

  it("fills a shard to 70% in room / (bytes per record x ingest per shard) days", () => {
    const base = { syncsPerDay: 0, ingest: 1_000_000, bytesPerRecord: 1711 };
    const room = LIMITS.fillTarget * LIMITS.d1BytesPerDatabase;
    const one = daysToFill(base, 1);
    expect(one.days).toBeCloseTo(room / (1711 * 1_000_000), 9);
    expect(one.recordsAt70).toBeCloseTo(room / 1711, 6);
    expect(daysToFill({ ...base, ingest: 2_000_000 }, 1).days).toBeCloseTo(one.days / 2, 9);
    expect(daysToFill({ ...base, bytesPerRecord: 4982 }, 1).days).toBeCloseTo((one.days * 1711) / 4982, 9);
    expect(daysToFill(base, 8).days).toBeCloseTo(8 * one.days, 9);
    // Stored sync results take their share of the room first.
    const withResults = daysToFill({ ...base, syncsPerDay: 100_000 }, 1);
    expect(withResults.resultBytes).toBe(100_000 * DEFAULTS.retentionDays * CALIBRATION.syncRowBytes);
    expect(withResults.days).toBeCloseTo((room - withResults.resultBytes) / (1711 * 1_000_000), 9);
    // An index fills at its vector limit, 1.25 vectors a record.
    expect(one.indexDays).toBeCloseTo(LIMITS.vectorsPerIndex / (1_000_000 * DEFAULTS.chunksPerRecord), 9);
  });

  it("calibrates from the project's own SQL (a smoke run: shapes, not times)", async () => {
    const lines: string[] = [];
    const c = await calibrate({ prefill: 5000, syncRows: 2000, log: (line: string) => lines.push(line) });
    for (const kind of ["read", "write", "touch"] as const) {
      expect(Number.isFinite(c[kind].perOpMs)).toBe(true);
      expect(c[kind].perOpMs).toBeGreaterThan(0);
      expect(c[kind].fixedMs).toBeGreaterThanOrEqual(0);
    }
    // A small sync's stored result: its JSON (about 300 bytes), ids and two indexes.
    expect(c.syncRowBytes).toBeGreaterThan(300);
    expect(c.syncRowBytes).toBeLessThan(2000);
    expect(lines.join("\n")).toContain("stored sync result");
  });
});
