import { describe, expect, it } from "vitest";
import { tokenOverlapScore } from "../src/local/token-overlap";

describe("the local reranker stand-in", () => {
  it("ranks a text holding the query's words above one holding a misspelling, above one holding neither", () => {
    const query = "ekzzdgoiqwer overheats";
    const exact = tokenOverlapScore(query, "the unit ekzzdgoiqwer overheats");
    const misspelled = tokenOverlapScore(query, "the unit ekzzdgoxqwer overheats");
    const neither = tokenOverlapScore(query, "the unit leaks water");
    expect(exact).toBeGreaterThan(misspelled);
    expect(misspelled).toBeGreaterThan(tokenOverlapScore(query, "the unit overheats today"));
    expect(neither).toBe(0);
  });

  it("credits a near miss by its trigram similarity, and never a short word or a distant one", () => {
    // 12 letters, one inner letter changed: 9 of 12 trigrams shared, Dice 0.75, half the query's words.
    expect(tokenOverlapScore("ekzzdgoiqwer", "ekzzdgoxqwer")).toBeCloseTo(0.75, 12);
    expect(tokenOverlapScore("cat", "cut")).toBe(0);
    expect(tokenOverlapScore("ekzzdgoiqwer", "qqqqqqqqqqqq")).toBe(0);
  });

  it("bounds its work: past 32 near-miss candidates, query words count only when exact", () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${String(i).padStart(4, "0")}x`);
    const text = words.map((w) => w.replace("x", "y")).join(" ");
    const all = tokenOverlapScore(words.join(" "), text) * 40;
    const first32 = tokenOverlapScore(words.slice(0, 32).join(" "), text) * 32;
    // The credits summed over the query's words: the 8 past the bound add nothing.
    expect(first32).toBeGreaterThan(32 * 0.6);
    expect(all).toBeCloseTo(first32, 12);
  });
});
