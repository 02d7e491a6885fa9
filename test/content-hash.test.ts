import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256Base64 } from "../src/base/crypto";
import { canonicalJson } from "../src/base/json/canonical-json";
import { checkOperations } from "../src/sync/operations";

/**
 * The content hash is what tells an unchanged record from a changed one, and ledgers hold hashes
 * computed by earlier versions: however it is computed, it must stay SHA-256 over this exact text.
 */
const reference = (op: Record<string, unknown>) =>
  sha256Base64(
    canonicalJson({
      data: op.data,
      file: op.file ?? null,
      created_at: op.created_at ?? null,
      source_system: op.source_system ?? null,
      text: op.text ?? null,
      metadata: op.metadata ?? null,
      vector: op.vector ?? null,
    }),
  );

const key = fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom("__proto__", "constructor", "b", "a", "Z", "é"));
const data = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 });
const operation = fc.record(
  {
    action: fc.constant("upsert"),
    id: fc.stringMatching(/^[a-z0-9_-]{1,8}$/),
    namespace: fc.constantFrom("tasks", "docs"),
    data,
    file: fc.record({ file_relative_path: fc.string(), file_url: fc.string() }, { requiredKeys: [] }),
    created_at: fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123+02:00"),
    source_system: fc.string({ maxLength: 10 }),
    text: fc.string({ maxLength: 20 }),
    metadata: fc.dictionary(key, fc.oneof(fc.string(), fc.boolean(), fc.integer()), { maxKeys: 4 }),
    vector: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }), { minLength: 3, maxLength: 3 }),
  },
  { requiredKeys: ["action", "id", "namespace", "data"] },
);

describe("content hash", () => {
  it("is SHA-256 of the canonical JSON of the record's content, for any operation", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 5 }), async (ops) => {
        // Through JSON, as a body would bring them (and -0 becomes 0, as it would).
        const sent = JSON.parse(JSON.stringify(ops)) as Record<string, unknown>[];
        const { checked } = await checkOperations(sent, "2026-01-01T00:00:00Z", 3);
        for (let i = 0; i < sent.length; i++) {
          const op = checked[i]!;
          expect(op.ok).toBe(true);
          if (op.ok) expect(op.record!.contentHash).toBe(await reference(sent[i]!));
        }
      }),
      { numRuns: 300 },
    );
  });
});
