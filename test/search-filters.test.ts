import { describe, expect, it } from "vitest";
import { matchesFilter } from "../src/vectors/metadata-filter";
import { recordVectorStem, vectorId, vectorNamespace } from "../src/vectors/ids";
import { ADMIN, call, createTenant, sync, upsert, type Tenant } from "./support/helpers";
import { indexOfStore } from "./support/placement";
import { expectIndexMatchesLedger } from "./support/stand-ins";

async function search(t: Tenant, body: unknown) {
  const res = await call("POST", `/v1/vector_stores/${t.store}/search`, body, { "X-API-Key": t.key });
  return { status: res.status, body: (await res.json()) as any };
}
const ids = (r: { body: { results: { record_id: string }[] } }) => r.body.results.map((x) => x.record_id).sort();

describe("a filter on a field the store cannot filter on", () => {
  it("is a 400 VALIDATION_ERROR naming the field and the fields that can be filtered, not an empty answer", async () => {
    const t = await createTenant({ metadataFields: ["status"] });
    await sync(t, [upsert("a", { title: "open ticket", status: "open", priority: 2 }, "clickup_tasks", { metadata: { team: "core" } })]);

    // `priority` is in data but not in metadata_fields; `team` is the operation's own metadata, in no index either.
    for (const field of ["priority", "team"]) {
      const res = await search(t, { query: "ticket", filter: { status: "open", [field]: field === "team" ? "core" : 2 } });
      expect(res.status, field).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
      const fields = res.body.error.details.fields as Record<string, string[]>;
      expect(Object.keys(fields)).toEqual([`filter.${field}`]);
      expect(fields[`filter.${field}`]!.join(" ")).toMatch(/"status".*"namespace".*"record_id"/);
      expect(res.body.error.details.filterable_fields).toEqual([
        "status",
        "organization_id",
        "vector_store_id",
        "namespace",
        "record_id",
        "chunk",
      ]);
      expect(res.body.error.message).toContain(`filter.${field}`);
    }

    // The fields it names do filter.
    for (const filter of [{ status: "open" }, { record_id: { $in: ["a", "b"] } }, { namespace: "clickup_tasks" }, { chunk: 0 }]) {
      const res = await search(t, { query: "ticket", filter });
      expect(res.status, JSON.stringify(filter)).toBe(200);
      expect(ids(res), JSON.stringify(filter)).toEqual(["a"]);
    }
  });

  it("the example of the docs works on a store without metadata_fields, as the dev server seeds it", async () => {
    const t = await createTenant();
    await sync(t, [upsert("task_123", { name: "Implement new feature", status: "in_progress" })]);
    const res = await search(t, {
      query: "new feature",
      namespace: "clickup_tasks",
      top_k: 10,
      filter: { record_id: { $in: ["task_123", "task_456"] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({ record_id: "task_123", namespace: "clickup_tasks", chunk: 0, metadata: {} }),
    ]);
    // The filter the docs' example used to show: that store does not index `status`.
    expect((await search(t, { query: "new feature", filter: { status: "open" } })).status).toBe(400);
  });
});

describe("dotted metadata fields", () => {
  const fields = ["status", "assignee.name", "team.lead"];
  const records = () => [
    upsert("1", { title: "Rocket launch", status: "open", assignee: { name: "Ana" } }, "clickup_tasks", {
      metadata: { "team.lead": "Cy" },
    }),
    upsert("2", { title: "Rocket repair", status: "done", assignee: { name: "Bo" } }),
    // A flat key with a dot in data is not the path assignee.name.
    upsert("3", { title: "Rocket paint", "assignee.name": "Ana" }),
  ];

  it("are stored nested, as Vectorize reads a dotted filter key, and filter end to end through search", async () => {
    const t = await createTenant({ metadataFields: fields });
    await sync(t, records());

    const index = await indexOfStore(t.store);
    const stem = await recordVectorStem(t.store, "clickup_tasks", "1");
    const [stored] = await index.getByIds([vectorId(stem, 0)]);
    expect(stored!.metadata).toMatchObject({ status: "open", assignee: { name: "Ana" }, team: { lead: "Cy" } });
    expect(Object.keys(stored!.metadata!).filter((k) => k.includes("."))).toEqual([]);

    const cases: [unknown, string[]][] = [
      [{ "assignee.name": "Ana" }, ["1"]],
      [{ "assignee.name": { $in: ["Ana", "Bo"] } }, ["1", "2"]],
      [{ "assignee.name": { $gte: "B", $lt: "C" } }, ["2"]],
      [{ "team.lead": "Cy", status: "open" }, ["1"]],
    ];
    for (const [filter, expected] of cases) {
      const res = await search(t, { query: "rocket", filter });
      expect(res.status, JSON.stringify(filter)).toBe(200);
      expect(ids(res), JSON.stringify(filter)).toEqual(expected);
    }
    // The answer names metadata by the dotted paths a filter uses, as before.
    const hit = await search(t, { query: "rocket launch", top_k: 1 });
    expect(hit.body.results[0]).toMatchObject({ record_id: "1", metadata: { status: "open", "assignee.name": "Ana", "team.lead": "Cy" } });
    expect(Object.keys(hit.body.results[0].metadata).sort()).toEqual(["assignee.name", "status", "team.lead"]);
  });

  it("vectors written with flat dotted keys match no dotted filter until reconcile rewrites them", async () => {
    const t = await createTenant({ metadataFields: fields });
    await sync(t, records());
    // Record 1's vector as an earlier version wrote it: the dotted field as one flat key.
    const index = await indexOfStore(t.store);
    const stem = await recordVectorStem(t.store, "clickup_tasks", "1");
    const [current] = await index.getByIds([vectorId(stem, 0)]);
    await index.upsert([
      {
        id: vectorId(stem, 0),
        values: current!.values,
        namespace: await vectorNamespace(t.store, "clickup_tasks"),
        metadata: {
          organization_id: t.org,
          vector_store_id: t.store,
          namespace: "clickup_tasks",
          record_id: "1",
          chunk: 0,
          status: "open",
          "assignee.name": "Ana",
        },
      },
    ]);
    // The vectors' metadata is what is broken (keyword search reads the ledger's): searched by vector.
    expect(ids(await search(t, { query: "rocket", mode: "vector", filter: { "assignee.name": "Ana" } }))).toEqual([]);

    const res = await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, ADMIN);
    expect(await res.json()).toMatchObject({ missing: 0, repaired: 1, failed: 0 });
    expect(ids(await search(t, { query: "rocket", mode: "vector", filter: { "assignee.name": "Ana" } }))).toEqual(["1"]);
    const again = await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, ADMIN);
    expect(await again.json()).toMatchObject({ missing: 0, repaired: 0 });
    await expectIndexMatchesLedger(t.store);
  });

  it("a step named __proto__ or constructor is a key like any other, stored, filtered and shown", async () => {
    const t = await createTenant({ metadataFields: ["__proto__.a", "constructor.name"] });
    await sync(t, [
      upsert("odd", JSON.parse('{"title": "odd keys", "constructor": {"name": "c"}}'), "clickup_tasks", {
        metadata: JSON.parse('{"__proto__.a": "p"}'),
      }),
      upsert("plain", { title: "plain keys" }),
    ]);
    for (const filter of [{ "__proto__.a": "p" }, { "constructor.name": "c" }]) {
      const res = await search(t, { query: "keys", filter });
      expect(res.status, JSON.stringify(filter)).toBe(200);
      expect(ids(res), JSON.stringify(filter)).toEqual(["odd"]);
    }
    const hit = await search(t, { query: "odd keys", top_k: 1 });
    expect(Object.entries(hit.body.results[0].metadata).sort()).toEqual([
      ["__proto__.a", "p"],
      ["constructor.name", "c"],
    ]);
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });

  it("the local index reads a dot in a filter key as nesting, never as a flat key", () => {
    expect(matchesFilter({ pandas: { nice: 42 } }, { "pandas.nice": 42 })).toBe(true);
    expect(matchesFilter({ "pandas.nice": 42 }, { "pandas.nice": 42 })).toBe(false);
    expect(matchesFilter({ pandas: { nice: { deeper: "x" } } }, { "pandas.nice.deeper": "x" })).toBe(true);
    expect(matchesFilter({ pandas: [{ nice: 42 }] }, { "pandas.0.nice": 42 })).toBe(false);
    expect(matchesFilter(JSON.parse('{"__proto__": {"a": 1}}'), { "__proto__.a": 1 })).toBe(true);
    expect(matchesFilter({}, { "constructor.name": "Object" })).toBe(false);
  });
});

describe("range filters compare by type, as Vectorize does", () => {
  it("in the local index: a number range matches numbers only, a string range strings only", () => {
    const n = { v: 10 };
    const s = { v: "10" };
    expect(matchesFilter(n, { v: { $gt: 9 } })).toBe(true);
    expect(matchesFilter(s, { v: { $gt: 9 } })).toBe(false); // "10" > 9 loosely
    expect(matchesFilter(s, { v: { $gte: 10, $lte: 10 } })).toBe(false);
    expect(matchesFilter(s, { v: { $lt: "9" } })).toBe(true); // strings order lexicographically
    expect(matchesFilter(n, { v: { $lt: "9" } })).toBe(false);
    expect(matchesFilter(n, { v: { $gt: "09" } })).toBe(false); // 10 > "09" loosely
    expect(matchesFilter({ v: null }, { v: { $lt: 1 } })).toBe(false); // null < 1 loosely
    expect(matchesFilter({ v: true }, { v: { $gt: 0 } })).toBe(false);
    expect(matchesFilter({ v: ["b"] }, { v: { $gt: "a" } })).toBe(false);
    expect(matchesFilter({}, { v: { $lt: 1 } })).toBe(false);
  });

  it("through search: a number and a numeric string are told apart", async () => {
    const t = await createTenant({ metadataFields: ["v"] });
    await sync(t, [upsert("num", { title: "item", v: 10 }), upsert("str", { title: "item", v: "10" })]);
    const cases: [unknown, string[]][] = [
      [{ v: { $gt: 9 } }, ["num"]],
      [{ v: { $gt: "09" } }, ["str"]],
      [{ v: { $gte: 10, $lt: 11 } }, ["num"]],
      [{ v: { $lt: "9" } }, ["str"]],
    ];
    for (const [filter, expected] of cases) {
      const res = await search(t, { query: "item", filter });
      expect(res.status, JSON.stringify(filter)).toBe(200);
      expect(ids(res), JSON.stringify(filter)).toEqual(expected);
    }
  });
});
