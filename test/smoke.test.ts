import { describe, expect, it } from "vitest";
import { call, createTenant, sync, upsert } from "./helpers";

describe("smoke", () => {
  it("health", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
  });
  it("sync one", async () => {
    const t = await createTenant();
    const r = await sync(t, [upsert("a", { x: 1 })]);
    expect(r.body).toMatchObject({ status: "success", results: { upserted: 1 } });
  });
});
