import { afterEach, describe, expect, it } from "vitest";
import { hashEmbedding } from "../src/local/hash-embedding";
import { TEXT_HASH_KEY } from "../src/vectors/chunk-hashes";
import { recordVectorStem, vectorIds } from "../src/vectors/ids";
import { chunkText } from "../src/vectors/text";
import { createTenant, sync, upsert, type Tenant } from "./support/helpers";
import { ledgerOfStore, indexOfStore } from "./support/placement";
import { ai, counting, expectIndexMatchesLedger } from "./support/stand-ins";

// A change that leaves a chunk's text alone re-uses that chunk's vector: read back from the index
// (its metadata names the text's hash) and upserted with the record's new metadata, not embedded.

const words = (n: number, seed: string) => Array.from({ length: n }, (_, i) => `${seed}${i % 29} word${i % 13}`).join(" ");
const ts = (day: number) => `2026-02-${String(day).padStart(2, "0")}T00:00:00Z`;

/** The store's vectors of one record, in chunk order, as the index holds them. */
async function vectorsOf(t: Tenant, id: string, namespace = "clickup_tasks") {
  const { results } = await (await ledgerOfStore(t.store))
    .prepare("SELECT chunk_count FROM records WHERE vector_store_id = ?1 AND namespace = ?2 AND id = ?3")
    .bind(t.store, namespace, id)
    .all<{ chunk_count: number }>();
  const ids = vectorIds(await recordVectorStem(t.store, namespace, id), 0, results[0]!.chunk_count);
  const found = await (await indexOfStore(t.store)).getByIds(ids);
  const byId = new Map(found.map((v) => [v.id, v]));
  return ids.map((vid) => byId.get(vid)!);
}

/** Every vector of the record holds exactly the embedding of its chunk's text (the stand-in embedder is deterministic). */
async function expectValuesMatchText(t: Tenant, id: string, text: string) {
  const chunks = chunkText(text);
  const vectors = await vectorsOf(t, id);
  expect(vectors).toHaveLength(chunks.length);
  vectors.forEach((v, i) => {
    expect(Array.from(v.values)).toEqual(Array.from(Float32Array.from(hashEmbedding(chunks[i]!, v.values.length))));
  });
}

afterEach(async () => {
  await ai.clearFaults();
});

describe("a chunk whose text is unchanged keeps its vector", () => {
  it("a status flip re-syncs with zero embedding calls, the new metadata and the same values", async () => {
    const t = await createTenant({ textFields: ["name", "body"], metadataFields: ["status"] });
    const long = words(900, "alpha");
    await sync(
      t,
      [
        upsert("a", { name: "Fix login", body: "crash on submit", status: "open" }),
        upsert("b", { name: "Long", body: long, status: "open" }),
      ],
      {
        sync_timestamp: ts(1),
      },
    );
    const before = await vectorsOf(t, "b");
    expect(before.length).toBeGreaterThanOrEqual(4);

    const { result, stats } = await counting(() =>
      sync(
        t,
        [
          upsert("a", { name: "Fix login", body: "crash on submit", status: "done" }),
          upsert("b", { name: "Long", body: long, status: "done" }),
        ],
        {
          sync_timestamp: ts(2),
        },
      ),
    );
    expect(result.body.results).toMatchObject({ upserted: 2, failed: 0 });
    expect(stats.embedCalls).toBe(0);
    expect(stats.textsEmbedded).toBe(0);
    expect(stats.vectorsUpserted).toBe(1 + before.length);
    expect(stats.idsDeleted).toBe(0);
    const after = await vectorsOf(t, "b");
    for (const [i, v] of after.entries()) {
      expect(v.metadata).toMatchObject({ status: "done", chunk: i, [TEXT_HASH_KEY]: before[i]!.metadata![TEXT_HASH_KEY] });
      expect(Array.from(v.values)).toEqual(Array.from(before[i]!.values));
    }
    expect((await vectorsOf(t, "a"))[0]!.metadata).toMatchObject({ status: "done" });
    await expectValuesMatchText(t, "b", `name: Long\nbody: ${long}`);
    await expectIndexMatchesLedger(t.store);
  });

  it("editing one chunk of a long record embeds exactly that chunk", async () => {
    const t = await createTenant();
    const original = words(900, "beta");
    await sync(t, [upsert("long", { body: original })], { sync_timestamp: ts(1) });
    // One word in the middle, replaced by one of the same length: chunk boundaries stay where they were.
    const edited = original.replace("beta7 word7", "gamm7 word7");
    const oldChunks = chunkText(`body: ${original}`);
    const newChunks = chunkText(`body: ${edited}`);
    const changed = newChunks.filter((c) => !oldChunks.includes(c)).length;
    expect(changed).toBe(1);

    const { stats } = await counting(() => sync(t, [upsert("long", { body: edited })], { sync_timestamp: ts(2) }));
    expect(stats.textsEmbedded).toBe(1);
    expect(stats.vectorsUpserted).toBe(newChunks.length);
    await expectValuesMatchText(t, "long", `body: ${edited}`);
    await expectIndexMatchesLedger(t.store);
  });

  it("a record that grows embeds only its new chunks; one that shrinks deletes only the chunks it lost", async () => {
    const t = await createTenant();
    const base = words(600, "delta");
    await sync(t, [upsert("r", { body: base })], { sync_timestamp: ts(1) });
    const grown = `${base} ${words(600, "omega")}`;
    const fresh = chunkText(`body: ${grown}`).filter((c) => !chunkText(`body: ${base}`).includes(c)).length;
    const grow = await counting(() => sync(t, [upsert("r", { body: grown })], { sync_timestamp: ts(2) }));
    expect(grow.stats.textsEmbedded).toBe(fresh);
    await expectValuesMatchText(t, "r", `body: ${grown}`);

    const shrink = await counting(() => sync(t, [upsert("r", { body: base })], { sync_timestamp: ts(3) }));
    const kept = chunkText(`body: ${base}`);
    const reusable = kept.filter((c) => chunkText(`body: ${grown}`).includes(c)).length;
    expect(shrink.stats.textsEmbedded).toBe(kept.length - reusable);
    expect(shrink.stats.idsDeleted).toBe(chunkText(`body: ${grown}`).length - kept.length);
    await expectValuesMatchText(t, "r", `body: ${base}`);
    await expectIndexMatchesLedger(t.store);
  });

  it("when reading back fails, the chunks are embedded: nothing is lost", async () => {
    const t = await createTenant({ textFields: ["name"], metadataFields: ["status"] });
    await sync(t, [upsert("a", { name: "Fix login", status: "open" })], { sync_timestamp: ts(1) });
    await ai.setFaults({ failNext: { getByIds: Number.POSITIVE_INFINITY } });
    const { result, stats } = await counting(() =>
      sync(t, [upsert("a", { name: "Fix login", status: "done" })], { sync_timestamp: ts(2) }),
    );
    expect(result.body.results).toMatchObject({ upserted: 1, failed: 0 });
    expect(stats.textsEmbedded).toBe(1);
    await ai.clearFaults();
    expect((await vectorsOf(t, "a"))[0]!.metadata).toMatchObject({ status: "done" });
    await expectValuesMatchText(t, "a", "name: Fix login");
  });

  it("a vector the index holds for another text (a write not yet applied, a half-applied batch) is never reused", async () => {
    const t = await createTenant({ textFields: ["name"], metadataFields: ["status"] });
    await sync(t, [upsert("a", { name: "Fix login", status: "open" })], { sync_timestamp: ts(1) });
    // The index answers with the vector of another text at the record's id, as an index that has
    // not applied the latest upsert would.
    const [stored] = await vectorsOf(t, "a");
    const other = Float32Array.from(hashEmbedding("name: Something else", stored!.values.length));
    const index = await indexOfStore(t.store);
    await index.upsert([
      { id: stored!.id, namespace: stored!.namespace, values: other, metadata: { ...stored!.metadata, [TEXT_HASH_KEY]: "x" } },
    ]);

    const { stats } = await counting(() => sync(t, [upsert("a", { name: "Fix login", status: "done" })], { sync_timestamp: ts(2) }));
    expect(stats.textsEmbedded).toBe(1);
    await expectValuesMatchText(t, "a", "name: Fix login");

    // A vector missing from the index altogether is embedded too.
    await index.deleteByIds([stored!.id]);
    const again = await counting(() => sync(t, [upsert("a", { name: "Fix login", status: "blocked" })], { sync_timestamp: ts(3) }));
    expect(again.stats.textsEmbedded).toBe(1);
    await expectValuesMatchText(t, "a", "name: Fix login");
    await expectIndexMatchesLedger(t.store);
  });
});
