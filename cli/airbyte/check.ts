/**
 * `airbyte check`: can this config write to its store? The config is read as `write` reads it, then
 * the store is read with the key (GET /v1/vector_stores/{id}): every answer becomes a message a
 * person can act on. Always one CONNECTION_STATUS; the exit code is 0 either way (Airbyte reads
 * the message, not the code).
 */
import { createSyncClient, errorCode } from "../../src/client/index";
import { loadConfig } from "../pipeline/config";
import { connectionStatus, type Output } from "./protocol";

const TIMEOUT_MS = 15_000;

export async function checkConnection(configPath: string): Promise<{ ok: boolean; message: string }> {
  const loaded = loadConfig(configPath);
  if ("error" in loaded) return { ok: false, message: loaded.error };
  const c = loaded.config;
  const client = createSyncClient({ baseUrl: c.url, apiKey: c.api_key, headers: { "User-Agent": "unified-sync-airbyte/0.1" } });
  let status: number;
  let data: { organization_id?: string } | undefined;
  let error: unknown;
  try {
    const r = await client.GET("/v1/vector_stores/{vector_store_id}", {
      params: { path: { vector_store_id: c.vector_store_id } },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = r.response.status;
    data = r.data;
    error = r.error;
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return { ok: false, message: `cannot reach ${c.url} (${cause}): check the URL and that the service is up and reachable from Airbyte` };
  }
  const code = errorCode(error);
  if (status === 200 && data) {
    if (data.organization_id !== c.organization_id) {
      return {
        ok: false,
        message: `vector store ${c.vector_store_id} belongs to another organization than ${c.organization_id}: fix organization_id`,
      };
    }
    return { ok: true, message: `the key can write to vector store ${c.vector_store_id} of ${c.organization_id}` };
  }
  if (status === 401)
    return {
      ok: false,
      message: `the API key was refused (${code ?? status}): it is wrong or revoked; create a key with POST /v1/admin/api-keys`,
    };
  if (status === 403) {
    return {
      ok: false,
      message: `the API key may not use vector store ${c.vector_store_id} (${code ?? status}): use a key of ${c.organization_id} that lists this store`,
    };
  }
  if (status === 404) {
    return {
      ok: false,
      message: `there is no vector store ${c.vector_store_id} in the key's organization (${code ?? status}): check vector_store_id`,
    };
  }
  if (status === 429 || status >= 500) {
    return { ok: false, message: `the service answered ${status} ${code ?? ""}: it is busy or unavailable; try again shortly` };
  }
  return { ok: false, message: `unexpected answer ${status} ${code ?? ""} from ${c.url}: is this the unified sync endpoint?` };
}

export async function runCheck(out: Output, configPath: string): Promise<number> {
  const result = await checkConnection(configPath);
  connectionStatus(out, result.ok, result.message);
  return 0;
}
