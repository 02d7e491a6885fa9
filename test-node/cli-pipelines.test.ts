// The Airbyte destination (`unified-sync airbyte`) and the Singer target (`unified-sync singer`)
// against a real `npm run dev` started (and stopped) by this file: three streams (an append_dedup
// with a composite key and CDC deletes, an overwrite, an append without a key), 12,000 records with
// a state every 1,000, then a second overwrite with fewer records; a server answering 503 for a
// while; a server that is not there. Each scenario has its own organization, store and key.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, type Tenant, listRecordIds, newTenant, startFaultProxy, until } from "./cli-helpers";
import {
  type PipelineRun,
  type Recorder,
  airbyteMessages,
  opKey,
  runPipeline,
  searchIds,
  startPipeline,
  startRecorder,
  uniqueWord,
} from "./cli-pipeline-helpers";
import { type DevServer, freePort, startDevServer, stopDevServer } from "../scripts/dev-server.mjs";

let server: DevServer;
let dir: string;
const closers: (FaultProxy | Recorder)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cli-pipelines-test-"));
  server = await startDevServer();
});

afterAll(async () => {
  for (const c of closers) await c.close();
  if (server) await stopDevServer(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- the logical message stream, shared by both protocols ----

type Stream = "accounts" | "docs" | "events";
const STREAMS: Stream[] = ["accounts", "docs", "events"];
/** A cursor no float64 holds: a state must come back with exactly these digits. */
const BIG = "18446744073709551615";

interface Rec {
  kind: "record";
  stream: Stream;
  /** The record's data as JSON text. */
  text: string;
  /** Its id in the store, and whether it is a delete. */
  id: string;
  deleted: boolean;
}
interface State {
  kind: "state";
  k: number;
  /** The stream whose state this is (per-stream states), or null (one state for all). */
  stream: Stream | null;
}
type Event = Rec | State;

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/**
 * `total` records round-robin over the three streams, a state after every `every`. accounts: key
 * (region, num), 3000 distinct keys, later records update earlier ones, 1 in 10 of the last quarter
 * deletes its key (deleteField set); docs: d0.. with a unique word each (`docWord` varies it);
 * events: distinct rows, no key.
 */
function events(o: {
  total: number;
  every: number;
  deleteField: string;
  perStreamStates: boolean;
  docs?: number;
  docWord?: (j: number) => string;
  eventBase?: number;
}): Event[] {
  const out: Event[] = [];
  const counters = { accounts: 0, docs: 0, events: 0 };
  let states = 0;
  for (let i = 0; i < o.total; i++) {
    const stream = STREAMS[i % 3]!;
    const j = counters[stream]++;
    if (stream === "accounts") {
      const region = j % 2 ? "us" : "eu";
      const num = Math.floor(j / 2) % 1500;
      const deleted = j >= (o.total / 3) * 0.75 && j % 10 === 9;
      const data = deleted
        ? { region, num, [o.deleteField]: "2026-06-01T00:00:00Z" }
        : { region, num, name: `Account ${region} ${num} v${j}`, [o.deleteField]: null };
      out.push({ kind: "record", stream, text: JSON.stringify(data), id: JSON.stringify([region, num]), deleted });
    } else if (stream === "docs") {
      if (o.docs !== undefined && j >= o.docs) continue;
      const data = { id: `d${j}`, title: `Doc ${(o.docWord ?? uniqueWord)(j)}`, body: `The body of document ${j}.` };
      out.push({ kind: "record", stream, text: JSON.stringify(data), id: `d${j}`, deleted: false });
    } else {
      const data = { seq: (o.eventBase ?? 0) + j, kind: j % 2 ? "click" : "view" };
      const text = JSON.stringify(data);
      out.push({ kind: "record", stream, text, id: sha(text), deleted: false });
    }
    if ((i + 1) % o.every === 0) {
      states++;
      out.push({ kind: "state", k: states, stream: o.perStreamStates ? STREAMS[states % 3]! : null });
    }
  }
  return out;
}

const NS: Record<Stream, string> = { accounts: "accounts", docs: "kb.docs", events: "events" };

/** The store's ids per namespace after applying `runs` of events in order (docs: the last run only, a full refresh). */
function expectedIds(runs: Event[][]): Record<Stream, string[]> {
  const live = { accounts: new Set<string>(), docs: new Set<string>(), events: new Set<string>() };
  for (const run of runs) {
    live.docs.clear();
    for (const e of run) {
      if (e.kind !== "record") continue;
      if (e.deleted) live[e.stream].delete(e.id);
      else live[e.stream].add(e.id);
    }
  }
  return { accounts: [...live.accounts].sort(), docs: [...live.docs].sort(), events: [...live.events].sort() };
}

async function expectStore(t: Tenant, runs: Event[][]) {
  const want = expectedIds(runs);
  for (const s of STREAMS) {
    const ids = (await listRecordIds(server.base, t, NS[s])).sort();
    expect(ids.length, s).toBe(want[s].length);
    expect(ids, s).toEqual(want[s]);
  }
}

/**
 * Each checkpoint line was printed after every record before it was committed: the operations of
 * the syncs answered when the test read the line cover the records that came before it.
 */
function expectCommittedBefore(run: PipelineRun, isCheckpoint: (text: string) => number | null, input: Event[], recorder: Recorder) {
  const before = new Map<number, string[]>();
  const seen: string[] = [];
  for (const e of input) {
    if (e.kind === "record") seen.push(opKey(NS[e.stream], e.id));
    else before.set(e.k, [...seen]);
  }
  let checked = 0;
  for (const line of run.lines) {
    const k = isCheckpoint(line.text);
    if (k === null) continue;
    const committed = new Set(recorder.answered.slice(0, line.answered!).flat());
    const missing = before.get(k)!.filter((key) => !committed.has(key));
    expect(missing.length, `checkpoint ${k} printed before ${missing.length} of its records were committed`).toBe(0);
    checked++;
  }
  return checked;
}

// ---- Airbyte ----

function airbyteText(input: Event[]): string {
  const lines: string[] = [];
  for (const e of input) {
    if (e.kind === "record") {
      const ns = e.stream === "docs" ? `"namespace":"kb",` : "";
      lines.push(`{"type":"RECORD","record":{"stream":"${e.stream}",${ns}"data":${e.text},"emitted_at":1767225600000}}`);
    } else if (e.stream !== null) {
      const ns = e.stream === "docs" ? `,"namespace":"kb"` : "";
      lines.push(
        `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${e.stream}"${ns}},"stream_state":{"k":${e.k},"lsn":${BIG}}},"sourceStats":{"recordCount":0}}}`,
      );
    } else {
      lines.push(`{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{"k":${e.k},"lsn":${BIG}},"stream_states":[]}}}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** destinationStats.recordCount the destination must report per state: records since the last state (of that stream, for STREAM states). */
function expectedCounts(input: Event[]): number[] {
  const perStream = new Map<Stream, number>();
  let all = 0;
  const out: number[] = [];
  for (const e of input) {
    if (e.kind === "record") {
      perStream.set(e.stream, (perStream.get(e.stream) ?? 0) + 1);
      all++;
    } else if (e.stream !== null) {
      out.push(perStream.get(e.stream) ?? 0);
      perStream.set(e.stream, 0);
    } else {
      out.push(all);
      all = 0;
      perStream.clear();
    }
  }
  return out;
}

function airbyteConfig(t: Tenant, url: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `airbyte-config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ url, api_key: t.key, organization_id: t.org, vector_store_id: t.store, ...extra }));
  return path;
}

const CATALOG = {
  streams: [
    {
      stream: { name: "accounts", json_schema: {}, supported_sync_modes: ["incremental"] },
      sync_mode: "incremental",
      destination_sync_mode: "append_dedup",
      primary_key: [["region"], ["num"]],
      generation_id: 3,
      minimum_generation_id: 0,
      sync_id: 7,
    },
    {
      stream: { name: "docs", namespace: "kb", json_schema: {}, supported_sync_modes: ["full_refresh"] },
      sync_mode: "full_refresh",
      destination_sync_mode: "overwrite",
      primary_key: [["id"]],
      generation_id: 3,
      minimum_generation_id: 3,
      sync_id: 7,
    },
    {
      stream: { name: "events", json_schema: {}, supported_sync_modes: ["incremental"] },
      sync_mode: "incremental",
      destination_sync_mode: "append",
      generation_id: 3,
      minimum_generation_id: 0,
      sync_id: 7,
    },
  ],
};

const catalogFile = (docsMode: "overwrite" | "append" = "overwrite") => {
  const path = join(dir, `catalog-${docsMode}.json`);
  const streams = CATALOG.streams.map((s) =>
    s.stream.name === "docs" ? { ...s, destination_sync_mode: docsMode, minimum_generation_id: 0 } : s,
  );
  writeFileSync(path, JSON.stringify({ streams }));
  return path;
};

/** Docs d{from}..d{to-1} of source namespace kb, with a STREAM state after every `every`. */
function docsText(from: number, to: number, every: number): string {
  const lines: string[] = [];
  for (let j = from; j < to; j++) {
    lines.push(
      `{"type":"RECORD","record":{"stream":"docs","namespace":"kb","data":{"id":"d${j}","title":"Doc ${uniqueWord(j)}"},"emitted_at":0}}`,
    );
    if ((j + 1) % every === 0) {
      lines.push(
        `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"docs","namespace":"kb"},"stream_state":{"k":${j + 1}}}}}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

const stateK = (text: string): number | null => {
  const m = JSON.parse(text);
  if (m.type !== "STATE") return null;
  return (m.state.stream?.stream_state ?? m.state.global.shared_state).k;
};

/** The run's STATE messages: each input state exactly once, in order, its own text kept (the big cursor's digits too). */
function expectStates(run: PipelineRun, input: Event[]) {
  const messages = airbyteMessages(run);
  const states = messages.filter((m) => m.type === "STATE");
  const wanted = input.filter((e): e is State => e.kind === "state");
  expect(states.map((s) => (s.state.stream?.stream_state ?? s.state.global.shared_state).k)).toEqual(wanted.map((s) => s.k));
  expect(states.map((s) => s.state.destinationStats.recordCount)).toEqual(expectedCounts(input));
  for (const line of run.lines.filter((l) => stateK(l.text) !== null)) expect(line.text).toContain(`"lsn":${BIG}`);
  return messages;
}

describe("unified-sync airbyte", () => {
  it("spec: one SPEC message with the config's schema and the three sync modes", async () => {
    const run = await runPipeline(["airbyte", "spec"], "");
    expect(run.code).toBe(0);
    const [spec, ...rest] = airbyteMessages(run);
    expect(rest).toEqual([]);
    expect(spec.spec.supported_destination_sync_modes).toEqual(["overwrite", "append", "append_dedup"]);
    const props = spec.spec.connectionSpecification.properties;
    expect(props.api_key.airbyte_secret).toBe(true);
    expect(spec.spec.connectionSpecification.required).toEqual(["url", "api_key", "organization_id", "vector_store_id"]);
    expect(Object.keys(props)).toEqual(
      expect.arrayContaining(["url", "organization_id", "vector_store_id", "namespace_prefix", "stream_namespaces"]),
    );
  });

  it("check: SUCCEEDED for a good config; FAILED with what to fix for a wrong key, an unknown store, an unreachable URL; exit 0 each time", async () => {
    const t = await newTenant(server.base, "abcheck");
    const status = async (config: string) => {
      const run = await runPipeline(["airbyte", "check", "--config", config], "");
      expect(run.code).toBe(0);
      const messages = airbyteMessages(run);
      expect(messages).toHaveLength(1);
      return messages[0].connectionStatus as { status: string; message: string };
    };
    expect((await status(airbyteConfig(t, server.base))).status).toBe("SUCCEEDED");
    const wrongKey = await status(airbyteConfig({ ...t, key: "usk_0000000000000000000000000000000000000000000000" }, server.base));
    expect(wrongKey).toMatchObject({ status: "FAILED", message: expect.stringContaining("API key was refused") });
    const unknownStore = await status(airbyteConfig({ ...t, store: "vs_nosuchstore" }, server.base));
    expect(unknownStore).toMatchObject({ status: "FAILED", message: expect.stringContaining("no vector store vs_nosuchstore") });
    const down = await status(airbyteConfig(t, `http://127.0.0.1:${await freePort()}`));
    expect(down).toMatchObject({ status: "FAILED", message: expect.stringContaining("cannot reach") });
    const bad = await status(airbyteConfig({ ...t, org: "acme" }, server.base));
    expect(bad).toMatchObject({ status: "FAILED", message: expect.stringContaining("organization_id") });
  });

  it("write: 12,000 records of three streams with a state every 1,000, then a second overwrite with fewer records", async () => {
    const t = await newTenant(server.base, "abwrite");
    const recorder = await startRecorder(server.base);
    closers.push(recorder);
    const config = airbyteConfig(t, recorder.base, { batch_size: 1000 });
    const first = events({ total: 12_000, every: 1000, deleteField: "_ab_cdc_deleted_at", perStreamStates: true });
    const run1 = await runPipeline(["airbyte", "write", "--config", config, "--catalog", catalogFile()], airbyteText(first), recorder);
    expect(run1.code, run1.lines.map((l) => l.text).join("\n")).toBe(0);
    const messages = expectStates(run1, first);
    expect(expectCommittedBefore(run1, stateK, first, recorder)).toBe(12);
    // States came out while records were still arriving, not all at the end.
    expect(run1.lines.findIndex((l) => stateK(l.text) !== null)).toBeLessThan(run1.lines.findIndex((l) => l.text.includes("(final)")));
    expect(messages.at(-1)).toMatchObject({
      type: "LOG",
      log: { level: "INFO", message: expect.stringContaining("done: 12000 records, 12 states") },
    });
    await expectStore(t, [first]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(1234)}`, 1)).toEqual(["d1234"]);

    // The second overwrite: 2,500 docs, a new word in each, and more accounts and events.
    const second = events({
      total: 9000,
      every: 1000,
      deleteField: "_ab_cdc_deleted_at",
      perStreamStates: false,
      docs: 2500,
      docWord: (j) => uniqueWord(j + 50_000),
      eventBase: 4000,
    });
    const run2 = await runPipeline(["airbyte", "write", "--config", config, "--catalog", catalogFile()], airbyteText(second), recorder);
    expect(run2.code, run2.lines.map((l) => l.text).join("\n")).toBe(0);
    expectStates(run2, second);
    expect(run2.lines.some((l) => /run kb\.docs \(final\).*swept 1500, 0 left/.test(l.text))).toBe(true);
    await expectStore(t, [first, second]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(50_000 + 17)}`, 1)).toEqual(["d17"]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(3210)}`, 5)).not.toContain("d3210");
  }, 180_000);

  it("write: a server answering 503 for a while; every state is still emitted once, in order, after its records", async () => {
    const t = await newTenant(server.base, "ab503");
    const faults = await startFaultProxy(server.base, (n) =>
      n >= 2 && n <= 5 ? { kind: "answer", status: 503, headers: { "Retry-After": "0" } } : { kind: "pass" },
    );
    const recorder = await startRecorder(faults.base);
    closers.push(faults, recorder);
    const input = events({ total: 3000, every: 300, deleteField: "_ab_cdc_deleted_at", perStreamStates: false });
    const run = await runPipeline(
      ["airbyte", "write", "--config", airbyteConfig(t, recorder.base, { batch_size: 400 }), "--catalog", catalogFile()],
      airbyteText(input),
      recorder,
    );
    expect(run.code, run.lines.map((l) => l.text).join("\n")).toBe(0);
    expectStates(run, input);
    expect(expectCommittedBefore(run, stateK, input, recorder)).toBe(10);
    expect(faults.syncs().filter((s) => s.status === 503)).toHaveLength(4);
    expect(run.lines.filter((l) => l.text.includes("503 UPSTREAM_UNAVAILABLE; retrying"))).toHaveLength(4);
    await expectStore(t, [input]);
  }, 120_000);

  it("write: a server that is not there; no state, a TRACE error, a non-zero exit", async () => {
    const t = await newTenant(server.base, "abdown");
    const input = events({ total: 300, every: 50, deleteField: "_ab_cdc_deleted_at", perStreamStates: false });
    const config = airbyteConfig(t, `http://127.0.0.1:${await freePort()}`, { max_retries: 2, flush_interval_seconds: 0.1 });
    // No overwrite stream: the first request that fails is a sync (an overwrite stream's run lookup fails the same way).
    const run = await runPipeline(["airbyte", "write", "--config", config, "--catalog", catalogFile("append")], airbyteText(input));
    expect(run.code).not.toBe(0);
    const messages = airbyteMessages(run);
    expect(messages.filter((m) => m.type === "STATE")).toEqual([]);
    expect(messages.find((m) => m.type === "TRACE")).toMatchObject({
      trace: { type: "ERROR", error: { failure_type: "transient_error", message: expect.stringContaining("nothing answers at") } },
    });
  }, 60_000);

  it("write: an attempt fails after committing part of an overwrite stream; the next attempt continues its run, sweeping nothing the first committed", async () => {
    const t = await newTenant(server.base, "abresume");
    // Attempt 1: two parts of 500 docs are committed (two states emitted), then the service refuses.
    const faults = await startFaultProxy(server.base, (n) =>
      n >= 3
        ? { kind: "answer", status: 400, body: { success: false, error: { code: "VALIDATION_ERROR", message: "injected" } } }
        : { kind: "pass" },
    );
    closers.push(faults);
    const first = await runPipeline(
      ["airbyte", "write", "--config", airbyteConfig(t, faults.base, { batch_size: 500 }), "--catalog", catalogFile()],
      docsText(0, 2000, 500),
    );
    expect(first.code).toBe(1);
    const states = airbyteMessages(first).filter((m) => m.type === "STATE");
    expect(states.map((m) => m.state.stream.stream_state.k)).toEqual([500, 1000]);
    expect((await listRecordIds(server.base, t, "kb.docs")).length).toBe(1000);

    // Attempt 2 resumes after the last state (a resumable full refresh): only d1000..d1999 are sent.
    const second = await runPipeline(
      ["airbyte", "write", "--config", airbyteConfig(t, server.base, { batch_size: 500 }), "--catalog", catalogFile()],
      docsText(1000, 2000, 500),
    );
    expect(second.code, second.lines.map((l) => l.text).join("\n")).toBe(0);
    const ids = (await listRecordIds(server.base, t, "kb.docs")).sort();
    expect(ids).toEqual(Array.from({ length: 2000 }, (_, j) => `d${j}`).sort());
    expect(second.lines.some((l) => l.text.includes("continuing its unfinished run"))).toBe(true);

    // The next full sync is a new run again, and sweeps what it does not send.
    const third = await runPipeline(
      ["airbyte", "write", "--config", airbyteConfig(t, server.base, { batch_size: 500 }), "--catalog", catalogFile()],
      docsText(0, 600, 500),
    );
    expect(third.code).toBe(0);
    expect(third.lines.some((l) => l.text.includes("continuing"))).toBe(false);
    expect((await listRecordIds(server.base, t, "kb.docs")).length).toBe(600);
  }, 120_000);

  it("write: a state is emitted while the source is silent, once flush_interval_seconds has passed", async () => {
    const t = await newTenant(server.base, "abquiet");
    const input = events({ total: 30, every: 30, deleteField: "_ab_cdc_deleted_at", perStreamStates: false });
    const config = airbyteConfig(t, server.base, { flush_interval_seconds: 0.5 });
    const cli = startPipeline(["airbyte", "write", "--config", config, "--catalog", catalogFile()]);
    cli.stdin.write(airbyteText(input));
    // stdin stays open: only the interval can have sent the records and released the state.
    await until(() => cli.lines.some((l) => stateK(l.text) !== null), 30_000, "the state while stdin is open");
    cli.stdin.end();
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(0);
    expectStates(run, input);
    expect((await listRecordIds(server.base, t, "kb.docs")).length).toBe(10);
  }, 60_000);

  it("write: a catalog whose streams would share a namespace is refused before anything is sent", async () => {
    const t = await newTenant(server.base, "abclash");
    const path = join(dir, "clash.json");
    const stream = (name: string) => ({ stream: { name, json_schema: {} }, destination_sync_mode: "append" });
    writeFileSync(path, JSON.stringify({ streams: [stream("a b"), stream("a_b")] }));
    const run = await runPipeline(["airbyte", "write", "--config", airbyteConfig(t, server.base), "--catalog", path], "");
    expect(run.code).toBe(1);
    expect(airbyteMessages(run)).toEqual([
      expect.objectContaining({
        type: "TRACE",
        trace: expect.objectContaining({
          error: expect.objectContaining({
            failure_type: "config_error",
            message: expect.stringContaining("both map to the namespace 'a_b'"),
          }),
        }),
      }),
    ]);
  });
});

// ---- Singer ----

/** Singer messages; docs records carry `version` and end with its ACTIVATE_VERSION (the run's final). */
function singerText(input: Event[], version: number): string {
  const lines = [
    `{"type":"SCHEMA","stream":"accounts","schema":{"type":"object"},"key_properties":["region","num"]}`,
    `{"type":"SCHEMA","stream":"docs","schema":{"type":"object"},"key_properties":["id"]}`,
    `{"type":"SCHEMA","stream":"events","schema":{"type":"object"},"key_properties":[]}`,
  ];
  for (const e of input) {
    if (e.kind === "record") {
      lines.push(`{"type":"RECORD","stream":"${e.stream}","record":${e.text}${e.stream === "docs" ? `,"version":${version}` : ""}}`);
    } else {
      lines.push(`{"type":"STATE","value":{"bookmarks":{"k":${e.k},"lsn":${BIG}}}}`);
    }
  }
  lines.push(`{"type":"ACTIVATE_VERSION","stream":"docs","version":${version}}`);
  lines.push(`{"type":"STATE","value":{"bookmarks":{"k":999,"lsn":${BIG}}}}`);
  return `${lines.join("\n")}\n`;
}

function singerConfig(t: Tenant, url: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `singer-config-${Math.random().toString(36).slice(2)}.json`);
  const docs = [{ stream: "docs", namespace: "kb.docs" }];
  writeFileSync(
    path,
    JSON.stringify({ url, api_key: t.key, organization_id: t.org, vector_store_id: t.store, stream_namespaces: docs, ...extra }),
  );
  return path;
}

/** Every stdout line is a state value from the input, in input order, each at most once; the last is the last state. */
function expectSingerStates(run: PipelineRun, input: Event[]) {
  const ks = run.lines.map((l) => {
    expect(l.text).toMatch(new RegExp(`^\\{"bookmarks":\\{"k":\\d+,"lsn":${BIG}\\}\\}$`));
    return JSON.parse(l.text).bookmarks.k as number;
  });
  const all = [...input.filter((e): e is State => e.kind === "state").map((s) => s.k), 999];
  expect(ks.at(-1)).toBe(999);
  let last = -1;
  for (const k of ks) {
    expect(all.indexOf(k)).toBeGreaterThan(last);
    last = all.indexOf(k);
  }
  return ks;
}

const singerK = (text: string): number | null => {
  const k = JSON.parse(text).bookmarks.k as number;
  return k === 999 ? null : k;
};

describe("unified-sync singer", () => {
  it("12,000 records of three streams with a state every 1,000 and ACTIVATE_VERSION; then a second version with fewer records", async () => {
    const t = await newTenant(server.base, "sgwrite");
    const recorder = await startRecorder(server.base);
    closers.push(recorder);
    const config = singerConfig(t, recorder.base, { batch_size: 1000 });
    const first = events({ total: 12_000, every: 1000, deleteField: "_sdc_deleted_at", perStreamStates: false });
    const run1 = await runPipeline(["singer", "--config", config], singerText(first, 1_767_225_600_000), recorder);
    expect(run1.code, run1.stderr).toBe(0);
    const ks = expectSingerStates(run1, first);
    expect(ks.length).toBeGreaterThan(1);
    expectCommittedBefore(run1, singerK, first, recorder);
    expect(run1.stderr).toContain("version 1767225600000 activated");
    await expectStore(t, [first]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(777)}`, 1)).toEqual(["d777"]);

    const second = events({
      total: 9000,
      every: 1000,
      deleteField: "_sdc_deleted_at",
      perStreamStates: false,
      docs: 2500,
      docWord: (j) => uniqueWord(j + 50_000),
      eventBase: 4000,
    });
    const run2 = await runPipeline(["singer", "--config", config], singerText(second, 1_767_312_000_000), recorder);
    expect(run2.code, run2.stderr).toBe(0);
    expectSingerStates(run2, second);
    expect(run2.stderr).toMatch(/run docs@1767312000000 \(final\).*swept 1500, 0 left/);
    await expectStore(t, [first, second]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(50_000 + 42)}`, 1)).toEqual(["d42"]);
    expect(await searchIds(server.base, t, "kb.docs", `Doc ${uniqueWord(3333)}`, 5)).not.toContain("d3333");
  }, 180_000);

  it("a server answering 503 for a while: states still come out in order, after their records", async () => {
    const t = await newTenant(server.base, "sg503");
    const faults = await startFaultProxy(server.base, (n) =>
      n >= 2 && n <= 4 ? { kind: "answer", status: 503, headers: { "Retry-After": "0" } } : { kind: "pass" },
    );
    const recorder = await startRecorder(faults.base);
    closers.push(faults, recorder);
    const input = events({ total: 3000, every: 300, deleteField: "_sdc_deleted_at", perStreamStates: false });
    const run = await runPipeline(
      ["singer", "--config", singerConfig(t, recorder.base, { batch_size: 400 })],
      singerText(input, 5),
      recorder,
    );
    expect(run.code, run.stderr).toBe(0);
    expectSingerStates(run, input);
    expectCommittedBefore(run, singerK, input, recorder);
    expect(faults.syncs().filter((s) => s.status === 503)).toHaveLength(3);
    await expectStore(t, [input]);
  }, 120_000);

  it("a run that fails after committing part of a version, resumed with the rest of that version: nothing the first committed is swept", async () => {
    const t = await newTenant(server.base, "sgresume");
    const docs = (from: number, to: number, activate: boolean) => {
      const lines = [`{"type":"SCHEMA","stream":"docs","schema":{"type":"object"},"key_properties":["id"]}`];
      for (let j = from; j < to; j++) {
        lines.push(`{"type":"RECORD","stream":"docs","record":{"id":"d${j}","title":"Doc ${uniqueWord(j)}"},"version":42}`);
        if ((j + 1) % 500 === 0) lines.push(`{"type":"STATE","value":{"bookmarks":{"docs":{"k":${j + 1},"version":42}}}}`);
      }
      if (activate) lines.push(`{"type":"ACTIVATE_VERSION","stream":"docs","version":42}`);
      return `${lines.join("\n")}\n`;
    };
    const faults = await startFaultProxy(server.base, (n) =>
      n >= 3
        ? { kind: "answer", status: 400, body: { success: false, error: { code: "VALIDATION_ERROR", message: "injected" } } }
        : { kind: "pass" },
    );
    closers.push(faults);
    const first = await runPipeline(["singer", "--config", singerConfig(t, faults.base, { batch_size: 500 })], docs(0, 2000, true));
    expect(first.code).toBe(1);
    expect(first.lines.map((l) => JSON.parse(l.text).bookmarks.docs.k)).toEqual([500, 1000]);

    const second = await runPipeline(["singer", "--config", singerConfig(t, server.base, { batch_size: 500 })], docs(1000, 2000, true));
    expect(second.code, second.stderr).toBe(0);
    const ids = (await listRecordIds(server.base, t, "kb.docs")).sort();
    expect(ids).toEqual(Array.from({ length: 2000 }, (_, j) => `d${j}`).sort());
    expect(second.stderr).toContain("continuing its unfinished run");
  }, 120_000);

  it("an ACTIVATE_VERSION of another version than the one being sent sweeps nothing", async () => {
    const t = await newTenant(server.base, "sgother");
    const lines = [`{"type":"SCHEMA","stream":"docs","schema":{"type":"object"},"key_properties":["id"]}`];
    for (let j = 0; j < 10; j++) lines.push(`{"type":"RECORD","stream":"docs","record":{"id":"d${j}","n":${j}},"version":7}`);
    lines.push(`{"type":"ACTIVATE_VERSION","stream":"docs","version":6}`, `{"type":"ACTIVATE_VERSION","stream":"docs","version":7}`);
    const run = await runPipeline(["singer", "--config", singerConfig(t, server.base)], `${lines.join("\n")}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("ACTIVATE_VERSION 6 while version 7 is being sent; ignored");
    expect((await listRecordIds(server.base, t, "kb.docs")).length).toBe(10);
  });

  it("a server that is not there: no state on stdout, a non-zero exit", async () => {
    const t = await newTenant(server.base, "sgdown");
    const input = events({ total: 300, every: 50, deleteField: "_sdc_deleted_at", perStreamStates: false });
    const config = singerConfig(t, `http://127.0.0.1:${await freePort()}`, { max_retries: 2, flush_interval_seconds: 0.1 });
    const run = await runPipeline(["singer", "--config", config], singerText(input, 5));
    expect(run.code).not.toBe(0);
    expect(run.lines).toEqual([]);
    expect(run.stderr).toContain("network error");
  }, 60_000);
});
