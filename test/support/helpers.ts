import { exports } from "cloudflare:workers";
import { ledgerOfStore } from "./placement";

export const ADMIN = { Authorization: "Bearer test-admin-token" };
export const BASE = "http://sync.test";

export function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  return exports.default.fetch(new Request(BASE + path, init));
}

let counter = 0;
/** A unique suffix, so tests never share an organization (or its rate limit). */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

export interface Tenant {
  org: string;
  store: string;
  key: string;
  keyId: string;
}

/** Creates an organization's vector store and an API key for it through the admin API. */
export async function createTenant(
  opts: { org?: string; store?: string; restrictToStore?: boolean; metadataFields?: string[]; textFields?: string[] } = {},
): Promise<Tenant> {
  const org = opts.org ?? unique("org");
  const storeRes = await call(
    "POST",
    "/v1/admin/vector-stores",
    {
      organization_id: org,
      ...(opts.store ? { id: opts.store } : {}),
      ...(opts.metadataFields ? { metadata_fields: opts.metadataFields } : {}),
      ...(opts.textFields ? { text_fields: opts.textFields } : {}),
    },
    ADMIN,
  );
  if (storeRes.status !== 201) throw new Error(`store: ${storeRes.status} ${await storeRes.text()}`);
  const store = ((await storeRes.json()) as { id: string }).id;
  const keyRes = await call(
    "POST",
    "/v1/admin/api-keys",
    { organization_id: org, ...(opts.restrictToStore ? { vector_store_ids: [store] } : {}) },
    ADMIN,
  );
  if (keyRes.status !== 201) throw new Error(`key: ${keyRes.status} ${await keyRes.text()}`);
  const key = (await keyRes.json()) as { api_key: string; key_id: string };
  return { org, store, key: key.api_key, keyId: key.key_id };
}

export function syncBody(t: Tenant, ops: unknown[], extra: Record<string, unknown> = {}) {
  return {
    organization_id: t.org,
    vector_store_id: t.store,
    sync_mode: "incremental",
    sync_timestamp: "2026-01-15T10:00:00Z",
    operations: ops,
    ...extra,
  };
}

export async function sync(t: Tenant, ops: unknown[], extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/connectors/pipeline/sync", syncBody(t, ops, extra), { "X-API-Key": t.key });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

export async function getRecord(t: Tenant, namespace: string, id: string) {
  const res = await call(
    "GET",
    `/v1/vector_stores/${t.store}/records/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}`,
    undefined,
    { "X-API-Key": t.key },
  );
  return { status: res.status, body: (await res.json()) as any };
}

/** Live ledger rows of a store, straight from D1: what a test checks the API against. */
export async function ledgerRows(store: string) {
  const { results } = await (await ledgerOfStore(store))
    .prepare("SELECT namespace, id, data FROM records WHERE vector_store_id = ?1 AND deleted = 0 ORDER BY namespace, id")
    .bind(store)
    .all<{ namespace: string; id: string; data: string }>();
  return results;
}

export const upsert = (id: string, data: Record<string, unknown>, namespace = "clickup_tasks", extra: Record<string, unknown> = {}) => ({
  action: "upsert",
  id,
  namespace,
  data,
  ...extra,
});
export const del = (id: string, namespace = "clickup_tasks", extra: Record<string, unknown> = {}) => ({
  action: "delete",
  id,
  namespace,
  ...extra,
});
