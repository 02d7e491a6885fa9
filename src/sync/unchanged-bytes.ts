/**
 * The unchanged-bytes path (docs/vectors.md, "Unchanged bytes"): an upsert whose bytes are exactly
 * those of the last operation applied to its record is unchanged, and is not parsed, validated or
 * hashed as JSON. The ledger keeps, per live record, the hash of those bytes (op_hash, in the form
 * operationSourceHash gives); here the bytes of each operation of a request are hashed and their
 * record keys read off the bytes, so that the ledger rows can be read before the check.
 */
import { sha256Base64OfBytes } from "../base/crypto";
import { operationCount, operationSlice, operationStrings, type OperationBytes } from "../base/json/sync-body";
import { tryNormalizeTimestamp } from "../base/timestamps";
import type { CheckedOperation } from "../model/operations";
import { keyOf, type LedgerEntry, type RecordKey } from "../model/plan";

/**
 * The version of what checkOperations accepts and how it hashes content. A stored hash of another
 * version never matches: change it whenever validation or the content hash changes, so that bytes
 * accepted under the old rules take the full check again.
 */
export const CHECK_RULES_VERSION = "1";

/** Requests with fewer operations take the full check only: the early ledger read would cost more than it saves. */
export const MIN_OPERATIONS_FOR_UNCHANGED_BYTES = 64;

/** Operations whose bytes are hashed together (one await for the batch). */
const HASH_BATCH = 256;

/** What the ledger keeps of an applied upsert read from bytes: the rules version, its bytes' hash and its updated_at. */
export function operationSourceHash(bytesHash: string, updatedAt: string | null): string {
  return `${CHECK_RULES_VERSION}:${bytesHash}${updatedAt === null ? "" : ` ${updatedAt}`}`;
}

function parseSourceHash(stored: string): { bytesHash: string; updatedAt: string | null } | null {
  const prefix = `${CHECK_RULES_VERSION}:`;
  if (!stored.startsWith(prefix)) return null;
  const space = stored.indexOf(" ", prefix.length);
  return space < 0
    ? { bytesHash: stored.slice(prefix.length), updatedAt: null }
    : { bytesHash: stored.slice(prefix.length, space), updatedAt: stored.slice(space + 1) };
}

/** Each operation's bytes hash (SHA-256, base64), in request order. */
export async function hashOperationBytes(source: OperationBytes): Promise<string[]> {
  const count = operationCount(source);
  const hashes: string[] = new Array(count);
  for (let from = 0; from < count; from += HASH_BATCH) {
    const to = Math.min(count, from + HASH_BATCH);
    const batch: Promise<void>[] = [];
    for (let index = from; index < to; index++) {
      batch.push(
        sha256Base64OfBytes(operationSlice(source, index)).then((h) => {
          hashes[index] = h;
        }),
      );
    }
    await Promise.all(batch);
  }
  return hashes;
}

/**
 * The record key of each operation as read off its bytes (null where the scan is not certain).
 * Only finds ledger rows: whichever row is found, an operation is taken as unchanged only when its
 * bytes are that row's last operation's, which named exactly that row.
 */
export function operationKeys(source: OperationBytes): (RecordKey | null)[] {
  const keys: (RecordKey | null)[] = new Array(operationCount(source));
  for (let index = 0; index < keys.length; index++) {
    const found = operationStrings(source, index, ["namespace", "id"]);
    const namespace = found.get("namespace");
    const id = found.get("id");
    keys[index] = namespace !== undefined && id !== undefined ? { namespace, id } : null;
  }
  return keys;
}

/** What checkOperations needs to know an operation unchanged from its bytes. */
export interface UnchangedBytes {
  hashes: string[];
  keys: (RecordKey | null)[];
  /** The ledger rows of those keys, by keyOf. */
  entries: Map<string, LedgerEntry>;
}

export function unchangedBytes(hashes: string[], keys: (RecordKey | null)[], entries: LedgerEntry[]): UnchangedBytes {
  return { hashes, keys, entries: new Map(entries.map((e) => [keyOf(e.namespace, e.id), e])) };
}

/**
 * Operation `index` as checked, when its bytes are those of its record's last applied operation:
 * an upsert of the stored content, with that operation's updated_at (so its version orders as the
 * full check's would: a later sync_timestamp or updated_at still moves the record's version, an
 * older one is stale). Otherwise null: the operation takes the full check.
 */
export function unreadOperation(known: UnchangedBytes, index: number, defaultVersion: string): CheckedOperation | null {
  const key = known.keys[index];
  const entry = key ? known.entries.get(keyOf(key.namespace, key.id)) : undefined;
  if (!entry || entry.deleted || !entry.opHash || entry.contentHash === null) return null;
  const stored = parseSourceHash(entry.opHash);
  if (!stored || stored.bytesHash !== known.hashes[index]) return null;
  const version = stored.updatedAt !== null ? tryNormalizeTimestamp(stored.updatedAt) : defaultVersion;
  if (version === null) return null;
  return {
    ok: true,
    index,
    action: "upsert",
    namespace: entry.namespace,
    id: entry.id,
    version,
    updatedAt: stored.updatedAt,
    unread: true,
    sourceHash: entry.opHash,
    record: {
      data: "",
      file: null,
      createdAt: null,
      sourceSystem: null,
      text: null,
      metadata: null,
      vector: null,
      contentHash: entry.contentHash,
    },
  };
}
