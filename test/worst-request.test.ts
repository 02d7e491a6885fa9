// The worst request each limit allows is answered, and the service stays up after it. Each test's
// timeout is the stated bound (docs/api.md, "Limits"); the memory these take is measured by
// `node scripts/memory.mjs`, not here.
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../src/schemas/common";
import { MAX_RECORD_BYTES } from "../src/schemas/sync";
import { MAX_CHUNKS_PER_REQUEST } from "../src/vectors/vector-sync";
import { call, createTenant, sync, syncBody, upsert, type Tenant } from "./support/helpers";
import { expectIndexMatchesLedger } from "./support/stand-ins";

const MAX_BODY_BYTES = 20 * 1024 * 1024;

async function expectStillServing(t: Tenant) {
  expect((await call("GET", "/health")).status).toBe(200);
  const normal = await sync(t, [upsert("after", { title: "still serving" }, "probe")], { sync_timestamp: "2026-06-01T00:00:00Z" });
  expect(normal.body.status).toBe("success");
}

describe("worst requests within the limits", () => {
  it("the largest body: records at the size limit, more vectors than one request may write", async () => {
    const t = await createTenant();
    const prose = (i: number) => {
      const words: string[] = [];
      let size = 0;
      for (let w = 0; size < MAX_RECORD_BYTES - 200; w++) {
        const word = `word${(w * 7 + i) % 9973}`;
        words.push(word);
        size += word.length + 1;
      }
      return words.join(" ");
    };
    const ops: unknown[] = [];
    let size = 200;
    for (let i = 0; ; i++) {
      const op = upsert(`big${i}`, { body: prose(i) });
      const bytes = JSON.stringify(op).length + 1;
      if (size + bytes > MAX_BODY_BYTES) break;
      ops.push(op);
      size += bytes;
    }
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    const { upserted, failed } = res.body.results;
    expect(upserted + failed).toBe(ops.length);
    // Every record fits its own limits; what the request's vector budget cannot take fails
    // with the retryable code, and what was applied is in the index exactly.
    for (const e of res.body.errors) expect(e.code).toBe("REQUEST_CHUNK_BUDGET_EXCEEDED");
    expect(upserted).toBeGreaterThan(0);
    expect(await expectIndexMatchesLedger(t.store)).toBeLessThanOrEqual(MAX_CHUNKS_PER_REQUEST);
    await expectStillServing(t);
  }, 120_000);

  it("the most operations, each with data at the deepest nesting allowed", async () => {
    const t = await createTenant();
    const deep = (i: number) => {
      let v: unknown = { leaf: `value ${i}` };
      for (let d = 2; d < MAX_JSON_DEPTH; d++) v = d % 2 ? { next: v } : [v];
      return { title: `deep ${i}`, nested: v };
    };
    const ops = Array.from({ length: 5000 }, (_, i) => upsert(`deep${i}`, deep(i)));
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 5000, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    await expectStillServing(t);
  }, 120_000);

  it("a body at the parser's nesting limit is parsed; one level more is refused whole", async () => {
    const t = await createTenant();
    const bodyAt = (dataDepth: number) => {
      let data = "1";
      for (let d = 0; d < dataDepth; d++) data = `{"x":${data}}`;
      return JSON.stringify(syncBody(t, [])).replace(
        `"operations":[]`,
        `"operations":[{"action":"upsert","id":"d","namespace":"n","data":${data}}]`,
      );
    };
    // envelope, operations array and operation are three levels: data of 69 makes 72.
    const atLimit = await call("POST", "/v1/connectors/pipeline/sync", bodyAt(69), { "X-API-Key": t.key });
    expect(atLimit.status).toBe(200);
    expect(((await atLimit.json()) as any).errors[0].message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
    const over = await call("POST", "/v1/connectors/pipeline/sync", bodyAt(70), { "X-API-Key": t.key });
    expect(over.status).toBe(400);
    expect(((await over.json()) as any).error.code).toBe("JSON_TOO_DEEP");
    await expectStillServing(t);
  });
});
