import { afterEach, describe, expect, it } from "vitest";
import { profileReset, profileSnapshot, setProfiling, span } from "../src/base/profile";

describe("timing spans (BENCH_PROFILE)", () => {
  afterEach(() => {
    setProfiling(false);
    profileReset();
  });

  it("record nothing when off, and pass every result and error through", async () => {
    expect(span("sync", () => 41 + 1)).toBe(42);
    expect(await span("async", async () => "done")).toBe("done");
    await expect(span("fails", async () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(profileSnapshot()).toEqual({});
  });

  it("when on, count each phase's calls, including ones that throw, until reset", async () => {
    setProfiling(true);
    span("plan", () => 1);
    span("plan", () => 2);
    await span("ledger read", async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    await expect(span("commit", async () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    const snapshot = profileSnapshot();
    expect(Object.keys(snapshot)).toEqual(["plan", "ledger read", "commit"]);
    expect(snapshot.plan!.calls).toBe(2);
    expect(snapshot["ledger read"]!.ms).toBeGreaterThanOrEqual(0);
    profileReset();
    expect(profileSnapshot()).toEqual({});
  });
});
