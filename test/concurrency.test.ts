import { expect, it } from "vitest";
import { call, createTenant, syncBody } from "./support/helpers";
import { rng } from "../measure/records.mjs";
import { applyModel, expectStoreMatchesModel, type ModelRequest } from "./support/model";

it("24 concurrent overlapping syncs end as applying them in version order would", async () => {
  const t = await createTenant();
  const random = rng(20261128);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const ids = Array.from({ length: 8 }, (_, i) => `r${i}`);
  // A random word per record version, so that a search can name exactly one of them.
  const token = () => Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join("");
  const requests: ModelRequest[] = [];
  for (let i = 0; i < 24; i++) {
    // Timestamps are distinct; the order the requests are sent in is shuffled below.
    const ts = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    const refresh = random() < 0.25;
    const ops = Array.from({ length: 1 + Math.floor(random() * 5) }, () => {
      const id = pick(ids);
      // A full_refresh names one namespace; incrementals touch both.
      const namespace = refresh ? "tasks" : pick(["tasks", "docs"]);
      return random() < 0.25
        ? { action: "delete" as const, id, namespace }
        : {
            action: "upsert" as const,
            id,
            namespace,
            data: {
              title: `${id} ${token()} ${pick(["alpha", "beta", "gamma"])}`,
              body: random() < 0.2 ? Array.from({ length: 700 }, (_, k) => `w${k}`).join(" ") : `short ${i}`,
            },
          };
    });
    requests.push({ mode: refresh ? "full_refresh" : "incremental", ts, ops });
  }
  const shuffled = [...requests].sort(() => random() - 0.5);
  const responses = await Promise.all(
    shuffled.map((r) =>
      call("POST", "/v1/connectors/pipeline/sync", syncBody(t, r.ops, { sync_mode: r.mode, sync_timestamp: r.ts }), { "X-API-Key": t.key }),
    ),
  );
  const statuses = responses.map((r) => r.status);
  // A full_refresh that arrives after a newer one is refused (409) and, in version order, changes
  // nothing the newer one does not decide: the model needs no special case for it.
  expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(12);
  await expectStoreMatchesModel(t.store, requests);

  // Counts and search agree with the model too.
  const model = applyModel(requests);
  const ns = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
  const counts = Object.fromEntries(((await ns.json()) as any).namespaces.map((n: any) => [n.namespace, n.record_count]));
  for (const namespace of ["tasks", "docs"]) {
    expect(counts[namespace] ?? 0).toBe([...model.keys()].filter((k) => k.startsWith(`${namespace}/`)).length);
  }
  for (const [key, data] of model) {
    const [namespace, id] = key.split("/") as [string, string];
    const word = String(data.title).split(" ")[1]!; // unique to this version of this record
    const res = await call("POST", `/v1/vector_stores/${t.store}/search`, { query: word, namespace, top_k: 3 }, { "X-API-Key": t.key });
    const results = ((await res.json()) as any).results;
    expect(results[0].record_id, key).toBe(id);
  }
});
