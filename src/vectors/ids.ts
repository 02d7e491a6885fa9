/**
 * Deterministic identities in the index, so that a replay overwrites instead of duplicating.
 * Vectorize caps vector ids and namespace names at 64 bytes.
 */
import { sha256Base64Url } from "../base/crypto";

/** The stem of a record's vector ids: 43 characters of base64url SHA-256 of (store, namespace, id). */
export function recordVectorStem(storeId: string, namespace: string, recordId: string): Promise<string> {
  return sha256Base64Url(`${storeId}\u0000${namespace}\u0000${recordId}`);
}

/** Chunk n's vector id: `<stem>_<n>`, at most 43 + 1 + 5 bytes. */
export function vectorId(stem: string, chunk: number): string {
  return `${stem}_${chunk}`;
}

export function vectorIds(stem: string, from: number, to: number): string[] {
  const ids: string[] = [];
  for (let chunk = from; chunk < to; chunk++) ids.push(vectorId(stem, chunk));
  return ids;
}

const utf8 = new TextEncoder();

/**
 * The Vectorize namespace of a (vector store, namespace): readable `store:namespace` when it
 * fits in 64 bytes, else `~` and a hash (neither ids nor namespaces may contain ':' or '~',
 * so the two forms never collide).
 */
export async function vectorNamespace(storeId: string, namespace: string): Promise<string> {
  const readable = `${storeId}:${namespace}`;
  if (utf8.encode(readable).byteLength <= 64) return readable;
  return `~${await sha256Base64Url(readable)}`;
}
