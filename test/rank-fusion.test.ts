import { describe, expect, it } from "vitest";
import { fuseRankings } from "../src/store/rank-fusion";

const hit = (recordId: string, score: number) => ({ namespace: "ns", recordId, chunk: 0, score });
const order = (chunks: { recordId: string }[]) => chunks.map((c) => c.recordId);

describe("hybrid fusion by relative score", () => {
  it("a keyword hit far above the rest outranks the nearest vector among near-equals", () => {
    // A part number plus a symptom: the ticket with the part scores 16, the symptom's others 10.
    const keyword = { found: [hit("part", 16), hit("s1", 10), hit("s2", 10)], full: true };
    // The vector search did not return the ticket (its cosine is at most the last one, 0.9).
    const vector = { found: [hit("s2", 1.0), hit("v1", 0.99), hit("v2", 0.9)], full: true };
    const fused = fuseRankings(vector, keyword, true);
    expect(order(fused)[0]).toBe("part");
    const part = fused[0]!;
    // 16/16 from keyword search, 0.9/1.0 credited from the vector search's last score.
    expect(part.fused).toBeCloseTo(1 + 0.9, 12);
    expect(part.vector).toBeNull();
    expect(part.keyword).toBe(16);
  });

  it("a keyword list of near-equal common-word hits leaves a clear vector winner first", () => {
    const keyword = { found: [hit("k1", 3.0), hit("k2", 2.98), hit("k3", 2.97)], full: true };
    const vector = { found: [hit("right", 0.6), hit("k1", 0.3), hit("v1", 0.28)], full: true };
    expect(order(fuseRankings(vector, keyword, true))[0]).toBe("right");
  });

  it("credits a chunk a ranking did not return with 0 when that ranking was not cut at its depth", () => {
    // An error code held by two tickets: the keyword search found exactly those two.
    const keyword = { found: [hit("e1", 6), hit("e2", 5.5)], full: false };
    const vector = { found: [hit("v1", 0.17), hit("v2", 0.16), hit("e2", 0.12)], full: true };
    const fused = fuseRankings(vector, keyword, true);
    // e1: 6/6 + 0.12/0.17 (the vector search's last); e2: 5.5/6 + 0.12/0.17; v1 1 + 0.
    expect(order(fused).slice(0, 3)).toEqual(["e1", "e2", "v1"]);
    expect(fused.find((c) => c.recordId === "v1")!.fused).toBeCloseTo(1, 12); // 0.17/0.17 + 0
  });

  it("a chunk found twice in one ranking counts once, with its best score", () => {
    const vector = { found: [hit("a", 0.8), hit("a", 0.1)], full: false };
    const fused = fuseRankings(vector, { found: [], full: false }, true);
    expect(fused).toHaveLength(1);
    expect(fused[0]).toMatchObject({ vector: 0.8, fused: 1 });
  });

  it("outside hybrid mode, no fused score and the mode's own order", () => {
    const fused = fuseRankings({ found: [hit("a", 0.9), hit("b", 0.5)], full: true }, { found: [], full: false }, false);
    expect(order(fused)).toEqual(["a", "b"]);
    expect(fused.every((c) => c.fused === null)).toBe(true);
  });
});
