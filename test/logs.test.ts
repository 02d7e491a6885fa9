import { afterEach, expect, it, vi } from "vitest";
import { ADMIN, call, createTenant, sync, syncBody, upsert } from "./support/helpers";
import { ai } from "./support/stand-ins";
import { ledgerOfStore } from "./support/placement";

afterEach(async () => {
  vi.restoreAllMocks();
  await ai.clearFaults();
});

it("no API key, admin token or record data reaches the logs, whatever happens", async () => {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  const marker = "SECRET-RECORD-CONTENT-8c1f";
  const t = await createTenant();
  await sync(t, [upsert("a", { note: marker })]);
  await sync(t, [{ action: "upsert", id: "bad", namespace: "ns", data: { note: marker }, vector: [1] }]);
  await call("POST", "/v1/connectors/pipeline/sync", `{"broken": "${marker}`, { "X-API-Key": t.key });
  await ai.setFaults({ failNext: { embed: Infinity } });
  await sync(t, [upsert("b", { note: marker })], { sync_timestamp: "2026-02-01T00:00:00Z" });
  await ai.clearFaults();
  await call("POST", `/v1/vector_stores/${t.store}/search`, { query: marker }, { "X-API-Key": t.key });
  await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, ADMIN);
  await call("DELETE", `/v1/admin/api-keys/${t.keyId}`, undefined, ADMIN);
  await sync(t, [upsert("c", { note: marker })]);
  // An internal failure, logged with its trace id.
  const t2 = await createTenant();
  const ledger2 = await ledgerOfStore(t2.store);
  await ledger2.prepare("ALTER TABLE syncs RENAME TO syncs_gone").run();
  const failed = await call("POST", "/v1/connectors/pipeline/sync", syncBody(t2, [upsert("d", { note: marker })]), { "X-API-Key": t2.key });
  await ledger2.prepare("ALTER TABLE syncs_gone RENAME TO syncs").run();
  expect(failed.status).toBe(500);
  expect(lines.some((l) => l.includes(failed.headers.get("X-Request-Id")!))).toBe(true);

  const all = lines.join("\n");
  for (const secret of [t.key, t2.key, "test-admin-token", marker]) expect(all).not.toContain(secret);
});
