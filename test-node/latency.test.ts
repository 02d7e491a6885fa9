// The latency model (modelRequest, docs/measurements.md#latency) on synthetic call lists, and
// `npm run latency` itself: the round trips each request type makes today. No time is asserted.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { INTRA_REGION_MS, RTT_MS, assumedMs, busyMs, modelRequest, waveNumbers } from "../measure/latency/model.mjs";

/**
 * THE CONTRACT: sequential remote round trips and cross-region round trips per request type, as
 * the code makes them at the commit this table was last updated (c88bd9c). A change that adds a
 * sequential crossing (another catalog read before the object call, a KV read without
 * cacheTtl...) must fail here; a change that removes one updates the table in the same commit.
 */
const EXPECTED = {
  // KV (edge cache) and the rate limiter are local; the store's object (1 crossing) then, beside
  // D1's primary: one catalog batch with the shard read beside it, the commit, the key's completion.
  small_sync: { sequential_remote_round_trips: 3, cross_region_round_trips: 1 },
  // One more than before the unchanged-bytes fast path: a body of 64+ operations without an
  // Idempotency-Key first reads the ledger rows of its keys (beside D1's primary, 2 ms), wasted on
  // a first sync whose keys are all new. Issue 24 keeps that open.
  first_sync_5000: { sequential_remote_round_trips: 14, cross_region_round_trips: 1 },
  // Revocation at the primary beside the rest; the search in one of the store's search objects,
  // its keyword query beside the embedding.
  search: { sequential_remote_round_trips: 4, cross_region_round_trips: 1 },
  // Revocation beside the shard replicas nearby (the organization's shards kept in memory), then
  // Vectorize's describe().
  sync_status: { sequential_remote_round_trips: 2, cross_region_round_trips: 1 },
  record_read: { sequential_remote_round_trips: 1, cross_region_round_trips: 1 },
};

const root = fileURLToPath(new URL("..", import.meta.url));
const SYD_ENAM = RTT_MS["syd-enam"];

type Call = Record<string, unknown> & { startSeq: number; endSeq: number; start: number; end: number };

/** A call at [startSeq, endSeq] in order and [start, end] in ms. */
const call = (caller: string, kind: string, [startSeq, endSeq]: [number, number], [start, end]: [number, number], extra = {}): Call => ({
  caller,
  kind,
  target: kind.startsWith("d1") ? "DB" : kind.toUpperCase(),
  method: kind === "object" ? "sync" : "first",
  startSeq,
  endSeq,
  start,
  end,
  ...extra,
});

/** One request spanning seq 0..1000 and `ms` milliseconds. */
const request = (calls: Call[], ms: number) =>
  modelRequest({ requests: [{ method: "POST", path: "/", start: 0, end: ms, startSeq: 0, endSeq: 1000 }], calls });

describe("latency model", () => {
  it("counts calls started together as one wave, as long as the slowest", () => {
    const m = request([call("worker", "d1-primary", [1, 4], [0, 5]), call("worker", "d1-primary", [2, 3], [0, 3])], 6);
    expect(m.sequential_remote_round_trips).toBe(1);
    expect(m.cross_region_round_trips).toBe(1);
    // 200 + 5 (slowest), plus 1 ms of the request outside any call.
    expect(m.modelled_ms).toBe(SYD_ENAM + 5 + 1);
  });

  it("adds up calls that waited for one another", () => {
    const m = request(
      [call("worker", "kv", [1, 2], [0, 1]), call("worker", "d1-primary", [3, 4], [1, 3]), call("worker", "d1-primary", [5, 6], [3, 4])],
      4,
    );
    expect(m.sequential_remote_round_trips).toBe(3);
    expect(m.cross_region_round_trips).toBe(3);
    expect(m.modelled_ms).toBe(3 * SYD_ENAM + 1 + 2 + 1);
  });

  it("runs a call marked concurrent (awaited only before the answer) beside the rest: it gates nothing", () => {
    // Revocation at the primary (ends first, locally), then a replica read that did not wait for it.
    const m = request(
      [call("worker", "d1-primary", [1, 2], [0, 1], { concurrent: true }), call("worker", "d1-replica", [3, 4], [1, 2])],
      2,
    );
    expect(m.sequential_remote_round_trips).toBe(1);
    expect(m.cross_region_round_trips).toBe(1);
    expect(m.modelled_ms).toBe(SYD_ENAM + 1);
    // Unmarked, the same calls are two waves in a row.
    const sequential = request([call("worker", "d1-primary", [1, 2], [0, 1]), call("worker", "d1-replica", [3, 4], [1, 2])], 2);
    expect(sequential.sequential_remote_round_trips).toBe(2);
  });

  it("makes one wave per round of a pipeline", () => {
    // Two in flight: c starts when a ends, d when b ends.
    const calls = [
      call("object", "ai", [1, 3], [0, 2]),
      call("object", "ai", [2, 5], [0, 3]),
      call("object", "ai", [4, 7], [2, 4]),
      call("object", "ai", [6, 8], [3, 5]),
    ];
    expect(waveNumbers(calls)).toEqual([1, 1, 2, 2]);
  });

  it("nests the object's waves inside the Worker's call to it, at the object's location", () => {
    const m = request(
      [
        call("worker", "kv", [1, 2], [0, 1]),
        call("worker", "object", [3, 20], [1, 31]),
        call("object", "d1-primary", [4, 5], [2, 12]),
        call("object", "d1-primary", [6, 7], [12, 30]),
      ],
      32,
    );
    // kv; then the object call (1) with its two waves inside.
    expect(m.sequential_remote_round_trips).toBe(1 + 1 + 2);
    // kv and the object call cross; the object's D1 calls stay in enam.
    expect(m.cross_region_round_trips).toBe(2);
    const objectMs = 2 * INTRA_REGION_MS + 10 + 18 + 2; // its calls, plus 2 ms of its own between them
    expect(m.modelled_ms).toBe(SYD_ENAM + 1 + (SYD_ENAM + objectMs) + 1);
    expect(m.hints).toEqual(["none"]);
  });

  it("places the object by its locationHint when the map knows the region", () => {
    const calls = [call("worker", "object", [1, 10], [0, 10], { locationHint: "oc" }), call("object", "d1-primary", [2, 3], [1, 9])];
    const m = request(calls, 10);
    expect(m.hints).toEqual(["oc"]);
    // Worker -> object in oc is 10 ms (not cross-region); the object's D1 primary in enam is.
    expect(m.cross_region_round_trips).toBe(1);
    // 8 ms of D1 in the object's 10, so 2 ms of its own.
    expect(m.modelled_ms).toBe(RTT_MS["syd-oc"] + RTT_MS["oc-enam"] + 8 + 2);
  });

  it("sends replica reads to the caller's nearest replica and primary reads to enam", () => {
    const fromWorker = request([call("worker", "d1-replica", [1, 2], [0, 1]), call("worker", "d1-primary", [3, 4], [1, 2])], 2);
    expect(fromWorker.sequential_remote_round_trips).toBe(2);
    expect(fromWorker.cross_region_round_trips).toBe(1);
    expect(fromWorker.modelled_ms).toBe(RTT_MS["syd-oc"] + 1 + SYD_ENAM + 1);
    const fromObject = request([call("worker", "object", [1, 10], [0, 10]), call("object", "d1-replica", [2, 3], [1, 9])], 10);
    expect(fromObject.cross_region_round_trips).toBe(1);
    expect(fromObject.modelled_ms).toBe(SYD_ENAM + INTRA_REGION_MS + 8 + 2);
  });

  it("treats the rate limiter and cached KV reads as local, KV without cacheTtl as a crossing", () => {
    const m = request(
      [call("worker", "kv-cached", [1, 2], [0, 3]), call("worker", "ratelimit", [3, 4], [3, 4]), call("worker", "kv", [5, 6], [4, 5])],
      5,
    );
    expect(m.sequential_remote_round_trips).toBe(1);
    expect(m.cross_region_round_trips).toBe(1);
    // kv-cached: its assumed 1 ms, not the 3 measured; rate limit: 1 measured; kv: 200 + 1.
    expect(m.modelled_ms).toBe(1 + 1 + SYD_ENAM + 1);
  });

  it("uses assumed times for Workers AI and Vectorize, not the stand-ins' own", () => {
    const ai = call("worker", "ai", [1, 2], [0, 900], { method: "run", size: 100 });
    expect(assumedMs(ai)).toBe(150);
    expect(request([ai], 900).modelled_ms).toBe(SYD_ENAM + 150);
    expect(assumedMs(call("object", "vectorize", [1, 2], [0, 1], { method: "upsert", size: 1000 }))).toBe(100);
    expect(assumedMs(call("worker", "d1-primary", [1, 2], [0, 1]))).toBeNull();
  });

  it("leaves out calls begun outside the request (background work)", () => {
    const m = modelRequest({
      requests: [{ method: "GET", path: "/", start: 0, end: 2, startSeq: 10, endSeq: 20 }],
      calls: [
        call("worker", "d1-primary", [5, 6], [0, 1]),
        call("worker", "d1-primary", [11, 12], [0, 1]),
        call("worker", "kv", [21, 22], [2, 3]),
      ],
    });
    expect(m.sequential_remote_round_trips).toBe(1);
    expect(m.background).toBe(2);
  });

  it("measures time outside calls as the union of their intervals", () => {
    expect(
      busyMs([call("worker", "kv", [1, 2], [0, 5]), call("worker", "kv", [3, 4], [3, 8]), call("worker", "kv", [5, 6], [10, 11])]),
    ).toBe(9);
    expect(busyMs([])).toBe(0);
  });
});

describe("npm run latency", () => {
  it("makes the round trips of the contract, per request type", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, "measure/latency/run.mjs"), "--runs=1"], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 110_000,
    });
    const last = stdout.trim().split("\n").at(-1)!;
    const result = JSON.parse(last) as Record<string, Record<string, number>>;
    expect(Object.keys(result)).toEqual(Object.keys(EXPECTED));
    for (const [name, r] of Object.entries(result)) {
      expect(Object.keys(r)).toEqual(["sequential_remote_round_trips", "cross_region_round_trips", "modelled_ms"]);
      expect(Number.isFinite(r.modelled_ms), name).toBe(true);
    }
    const counts = Object.fromEntries(
      Object.entries(result).map(([name, r]) => [
        name,
        { sequential_remote_round_trips: r.sequential_remote_round_trips, cross_region_round_trips: r.cross_region_round_trips },
      ]),
    );
    expect(counts).toEqual(EXPECTED);
  });
});
