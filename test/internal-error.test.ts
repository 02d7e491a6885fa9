import { expect, it, vi } from "vitest";
import { call, createTenant, syncBody, upsert } from "./support/helpers";
import { ledgerOfStore } from "./support/placement";

it("a 500 is the envelope with a trace id and reveals no internals", async () => {
  const t = await createTenant();
  // Break the ledger underneath the service (this file has its own D1 storage).
  const ledger = await ledgerOfStore(t.store);
  await ledger.prepare("DROP TABLE syncs").run();
  const logged: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...args) => {
    logged.push(args.join(" "));
  });
  const res = await call("POST", "/v1/connectors/pipeline/sync", syncBody(t, [upsert("a", { x: 1 })]), { "X-API-Key": t.key });
  spy.mockRestore();
  expect(res.status).toBe(500);
  const body = (await res.json()) as any;
  expect(body.error).toMatchObject({ code: "INTERNAL_ERROR", type: "api_error", status: 500, details: {} });
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/syncs|SQLITE|D1_|table/i);
  expect(res.headers.get("X-Request-Id")).toBe(body.error.trace_id);
  // The failure is logged with the trace id so it can be found.
  expect(logged.some((line) => line.includes(body.error.trace_id))).toBe(true);
  // The request was atomic: nothing of it was written.
  const { results } = await ledger.prepare("SELECT count(*) AS n FROM records").all<{ n: number }>();
  expect(results[0]!.n).toBe(0);
});
