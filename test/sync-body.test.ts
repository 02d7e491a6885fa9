import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { operationCount, operationText, splitSyncBody } from "../src/base/json/sync-body";
import { call, createTenant, ledgerRows, syncBody, upsert } from "./support/helpers";

const utf8 = new TextEncoder();

/** What a split body stands for: its envelope with the operations put back, parsed. */
function reassembled(body: string): unknown {
  const split = splitSyncBody(utf8.encode(body));
  if (split.kind !== "split") return split.kind;
  try {
    const envelope = JSON.parse(split.envelope);
    const operations = Array.from({ length: operationCount(split.operations) }, (_, i) => JSON.parse(operationText(split.operations, i)));
    return { ...envelope, operations };
  } catch {
    return "a piece is not JSON"; // refused where that piece is parsed
  }
}

/** JSON text of `value` with random whitespace between tokens. */
const spaced = (value: unknown, seed: number) => {
  const spaces = [" ", "\n", "\t", "\r\n  ", ""];
  let n = seed;
  return JSON.stringify(value, null, 1).replace(/\n */g, () => {
    n = (n * 31 + 7) % 997;
    return spaces[n % spaces.length]!;
  });
};

describe("splitting a sync body without parsing its operations", () => {
  it("cuts any valid body into an envelope and operations that mean exactly the body", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 8 }),
        fc.nat(),
        (extra, operations, seed) => {
          const body = { ...extra, operations };
          const text = spaced(body, seed);
          expect(reassembled(text)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never calls a damaged body split unless it is valid JSON that means the same", () => {
    const good = JSON.stringify({ a: 1, operations: [{ id: "x", d: [1, 'a\\"b', { c: null }] }, 2, "s", true] });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.constantFrom(...'{}[],:"\\ x1'), fc.boolean(), (at, ch, insert) => {
        const damaged = good.slice(0, at) + ch + good.slice(insert ? at : at + 1);
        const result = reassembled(damaged);
        if (typeof result === "string") return; // declined, or a piece refused: the body is refused
        expect(result).toEqual(JSON.parse(damaged));
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps the last of repeated operations keys, as JSON.parse does, and allows a byte order mark", () => {
    const body = '{"operations":[1],"x":true,"operations":[{"a":2}]}';
    expect(reassembled(body)).toEqual(JSON.parse(body));
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode('{"operations":[]}')]);
    expect(splitSyncBody(bom).kind).toBe("split");
  });

  it("counts nesting and containers against the body's limits", () => {
    expect(splitSyncBody(utf8.encode(`{"operations":[${"[".repeat(100)}${"]".repeat(100)}]}`)).kind).toBe("too_deep");
    expect(splitSyncBody(utf8.encode(`{"operations":[${"{},".repeat(500_001)}{}]}`)).kind).toBe("too_complex");
  });
});

describe("a sync body whose operations are parsed one by one in the store's object", () => {
  const post = (t: { key: string }, body: string) =>
    call("POST", "/v1/connectors/pipeline/sync", body, { "X-API-Key": t.key, "Content-Type": "application/json" });

  it("an operation that is not JSON refuses the whole body (400 INVALID_JSON naming it), and applies nothing", async () => {
    const t = await createTenant();
    const text = JSON.stringify(syncBody(t, [upsert("a", { v: 1 }), upsert("b", { v: 2 })]));
    const broken = text.replace('"v":2', '"v":2,'); // {"v":2,}: balanced, but not JSON
    const res = await post(t, broken);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as any).error;
    expect(error.code).toBe("INVALID_JSON");
    expect(error.details.parse_error).toMatch(/^operations\[1\]: /);
    expect(await ledgerRows(t.store)).toEqual([]);
  });

  it("a body streamed without Content-Length is read and applied like any other", async () => {
    const t = await createTenant();
    const text = JSON.stringify(syncBody(t, [upsert("a", { v: "x".repeat(70_000) }), upsert("b", { v: 2 })]));
    const bytes = utf8.encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 4096) controller.enqueue(bytes.slice(at, at + 4096));
        controller.close();
      },
    });
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(
      new Request("http://sync.test/v1/connectors/pipeline/sync", {
        method: "POST",
        body: stream,
        headers: { "X-API-Key": t.key, "Content-Type": "application/json" },
      }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results.upserted).toBe(2);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "b"]);
  });

  it("a body the scan declines (operations not an array) still gets the envelope's own 400", async () => {
    const t = await createTenant();
    const res = await post(t, JSON.stringify({ ...(syncBody(t, []) as object), operations: { a: 1 } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("VALIDATION_ERROR");
  });
});
