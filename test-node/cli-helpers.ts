// Helpers of the push CLI's tests (the dev server itself: startDevServer): a fresh organization,
// store and API key per scenario (the admin API; the local state under .wrangler/state is shared
// with every other dev server, and rate limits count per organization), the CLI run as a child
// process, and a fault-injecting proxy.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from "node:http";
import { join } from "node:path";
import { createSyncClient } from "../src/client/index";
import { root, sleep } from "../scripts/dev-server.mjs";

export { root };
export const CLI = join(root, "cli", "unified-sync.mjs");

/** The dev server's secrets: .dev.vars (what `npm run dev` uses; it creates it from the example). */
export function devVar(name: string): string {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const m = new RegExp(`^\\s*${name}\\s*=\\s*"?(.*?)"?\\s*$`, "m").exec(readFileSync(path, "utf8"));
    if (m) return m[1]!;
  }
  throw new Error(`${name} is in neither .dev.vars nor .dev.vars.example`);
}

export interface Tenant {
  org: string;
  store: string;
  key: string;
}

/** A new organization with one vector store and an API key (its own rate-limit bucket). */
export async function newTenant(base: string, label: string): Promise<Tenant> {
  const admin = { Authorization: `Bearer ${devVar("ADMIN_TOKEN")}`, "Content-Type": "application/json" };
  const org = `org_cli_${label}_${Math.random().toString(36).slice(2, 10)}`;
  const storeRes = await fetch(`${base}/v1/admin/vector-stores`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ organization_id: org }),
  });
  if (storeRes.status !== 201) throw new Error(`creating a store: ${storeRes.status} ${await storeRes.text()}`);
  const store = ((await storeRes.json()) as { id: string }).id;
  const keyRes = await fetch(`${base}/v1/admin/api-keys`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ organization_id: org }),
  });
  if (keyRes.status !== 201) throw new Error(`creating a key: ${keyRes.status} ${await keyRes.text()}`);
  return { org, store, key: ((await keyRes.json()) as { api_key: string }).api_key };
}

/** Every live record id of a namespace, through the typed client (GET records/{namespace}, pages of 1000). */
export async function listRecordIds(base: string, t: Tenant, namespace: string): Promise<string[]> {
  const client = createSyncClient({ baseUrl: base, apiKey: t.key });
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { data, error } = await client.GET("/v1/vector_stores/{vector_store_id}/records/{namespace}", {
      params: { path: { vector_store_id: t.store, namespace }, query: { limit: 1000, ...(cursor ? { cursor } : {}) } },
    });
    if (!data) throw new Error(`listing records: ${JSON.stringify(error)}`);
    ids.push(...data.records.map((r) => r.id));
    if (!data.next_cursor) return ids;
    cursor = data.next_cursor;
  }
}

/** Every sync of the store, newest first (GET /v1/connectors/pipeline/syncs). */
export async function listSyncs(base: string, t: Tenant) {
  const client = createSyncClient({ baseUrl: base, apiKey: t.key });
  const syncs: { sync_id: string; processed: number; final: boolean | null; sync_timestamp: string }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { data, error } = await client.GET("/v1/connectors/pipeline/syncs", {
      params: { query: { vector_store_id: t.store, limit: 100, ...(cursor ? { cursor } : {}) } },
    });
    if (!data) throw new Error(`listing syncs: ${JSON.stringify(error)}`);
    syncs.push(...data.syncs);
    if (!data.next_cursor) return syncs;
    cursor = data.next_cursor;
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Starts `unified-sync push <args>` with the tenant's key in UNIFIED_SYNC_API_KEY. */
export function startCli(args: string[], key: string | null, options: { stdin?: string } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.UNIFIED_SYNC_API_KEY;
  delete env.UNIFIED_SYNC_URL;
  if (key !== null) env.UNIFIED_SYNC_API_KEY = key;
  const child = spawn(process.execPath, [CLI, "push", ...args], { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  const done = new Promise<CliRun>((resolve) => {
    child.once("close", (code, signal) => {
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not --json */
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
  return { child, done };
}

export const runCli = (args: string[], key: string | null, options: { stdin?: string } = {}) => startCli(args, key, options).done;

/** What the proxy does with one sync request (POST .../sync), numbered from 1. */
export type Fault =
  | { kind: "pass" }
  | { kind: "answer"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Forwarded and applied, then the connection is cut before the answer: the client sees a network error. */
  | { kind: "lose-answer" }
  /** Never forwarded, never answered. */
  | { kind: "hang" }
  /** Forwarded and applied; the client gets the answer as `edit` rewrites its JSON. */
  | { kind: "rewrite"; edit: (answer: any) => unknown };

export interface ProxyEntry {
  n: number | null;
  method: string;
  path: string;
  key: string | null;
  fault: Fault["kind"];
  status: number | null;
  replayed: boolean;
}

export interface FaultProxy {
  base: string;
  log: ProxyEntry[];
  /** Sync POSTs seen so far. */
  syncs(): ProxyEntry[];
  setPlan(plan: (n: number) => Fault): void;
  close(): Promise<void>;
}

/** A proxy on 127.0.0.1 in front of the dev server; sync POSTs go through `plan`, everything else passes. */
export async function startFaultProxy(target: string, plan: (n: number) => Fault): Promise<FaultProxy> {
  const log: ProxyEntry[] = [];
  let syncCount = 0;
  const hanging = new Set<ServerResponse>();
  const server = createHttpServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const isSync = req.method === "POST" && /\/pipeline\/sync$/.test(req.url ?? "");
    const n = isSync ? ++syncCount : null;
    const fault: Fault = n !== null ? plan(n) : { kind: "pass" };
    const entry: ProxyEntry = {
      n,
      method: req.method ?? "",
      path: req.url ?? "",
      key: (req.headers["idempotency-key"] as string) ?? null,
      fault: fault.kind,
      status: null,
      replayed: false,
    };
    log.push(entry);
    if (fault.kind === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (fault.kind === "answer") {
      entry.status = fault.status;
      res.writeHead(fault.status, { "Content-Type": "application/json", ...fault.headers });
      res.end(
        JSON.stringify(
          fault.body ?? {
            success: false,
            error: { code: fault.status === 429 ? "RATE_LIMIT_EXCEEDED" : "UPSTREAM_UNAVAILABLE", message: "injected by the test proxy" },
          },
        ),
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && !["host", "connection", "content-length", "transfer-encoding"].includes(k)) headers[k] = v;
    }
    try {
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(body.length ? { body } : {}) });
      let answer = Buffer.from(await upstream.arrayBuffer());
      if (fault.kind === "rewrite") answer = Buffer.from(JSON.stringify(fault.edit(JSON.parse(answer.toString("utf8")))));
      entry.status = upstream.status;
      entry.replayed = upstream.headers.get("idempotent-replayed") === "true";
      if (fault.kind === "lose-answer") {
        res.socket?.destroy();
        return;
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)) out[k] = v;
      });
      res.writeHead(upstream.status, { ...out, "Content-Length": String(answer.length) });
      res.end(answer);
    } catch (err) {
      res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`proxy: ${String(err)}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    log,
    syncs: () => log.filter((e) => e.n !== null),
    setPlan(p) {
      plan = p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `check` is true (polled), or rejects after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
