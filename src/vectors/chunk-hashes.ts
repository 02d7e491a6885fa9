/**
 * A chunk's text hash, in two lengths: the whole SHA-256 (base64url, 43 characters) travels in its
 * vector's metadata (TEXT_HASH_KEY) and decides whether a vector read back from the index was
 * embedded from exactly this text; the ledger keeps LEDGER_HASH_CHARS of it per chunk
 * (RecordWrite.chunkHashes), enough to find which chunks are worth reading back.
 */
import { sha256Base64Url } from "../base/crypto";

/** The service's metadata key holding the SHA-256 of the text a vector was embedded from. */
export const TEXT_HASH_KEY = "text_sha256";
/** Length of a whole text hash (base64url SHA-256). */
export const TEXT_HASH_CHARS = 43;
/** Characters of each chunk's hash the ledger keeps (96 bits: a wrong candidate costs one read, never a wrong vector). */
export const LEDGER_HASH_CHARS = 16;

export const chunkTextHash = (text: string): Promise<string> => sha256Base64Url(text);

/** The ledger's form of a record's chunk hashes: their prefixes, concatenated; null for none. */
export function ledgerChunkHashes(hashes: string[]): string | null {
  return hashes.length === 0 ? null : hashes.map((h) => h.slice(0, LEDGER_HASH_CHARS)).join("");
}

/**
 * Where each text hash prefix of the ledger's form sits (its chunk position), for the first
 * `chunkCount` chunks only (the vectors the index should hold); empty for null or a malformed value.
 */
export function chunkPositions(ledger: string | null | undefined, chunkCount: number): Map<string, number> {
  const positions = new Map<string, number>();
  if (!ledger || ledger.length !== chunkCount * LEDGER_HASH_CHARS) return positions;
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const prefix = ledger.slice(chunk * LEDGER_HASH_CHARS, (chunk + 1) * LEDGER_HASH_CHARS);
    if (!positions.has(prefix)) positions.set(prefix, chunk);
  }
  return positions;
}
