/**
 * Parts: operations gathered into sync requests of at most `maxOperations` operations and at
 * most `maxBodyBytes` bytes of body (UTF-8), whichever comes first; the body text; and each
 * part's deterministic Idempotency-Key.
 */
import { createHash } from "node:crypto";
import type { Operation } from "./operation";

export interface Envelope {
  organizationId: string;
  vectorStoreId: string;
  mode: "incremental" | "full_refresh";
  syncTimestamp: string;
}

/**
 * Bytes kept free in every body for the envelope and a final request's `namespaces` list
 * (at most 1000 names of at most 64 characters, quoted): the operations get the rest.
 */
export const ENVELOPE_RESERVE_BYTES = 80 * 1024;
/** The server's limits (MAX_OPERATIONS; MAX_BODY_BYTES, 20 MiB). */
export const SERVER_MAX_OPERATIONS = 5000;
export const SERVER_MAX_BODY_BYTES = 20 * 1024 * 1024;
/** A final request names at most this many namespaces (MAX_NAMESPACES_PER_REQUEST). */
export const MAX_FINAL_NAMESPACES = 1000;

export class PartBuilder {
  ops: string[] = [];
  lines: number[] = [];
  namespaces = new Set<string>();
  private opBytes = 0;

  constructor(
    readonly maxOperations: number,
    readonly maxBodyBytes: number,
  ) {}

  get size() {
    return this.ops.length;
  }

  /** Largest operation a part can carry at all. */
  get maxOperationBytes() {
    return this.maxBodyBytes - ENVELOPE_RESERVE_BYTES;
  }

  fits(op: Operation): boolean {
    if (this.ops.length >= this.maxOperations) return false;
    const comma = this.ops.length > 0 ? 1 : 0;
    return this.opBytes + comma + op.bytes <= this.maxOperationBytes;
  }

  add(op: Operation) {
    this.opBytes += (this.ops.length > 0 ? 1 : 0) + op.bytes;
    this.ops.push(op.json);
    this.lines.push(op.line);
    if (op.namespace !== null) this.namespaces.add(op.namespace);
  }

  reset() {
    this.ops = [];
    this.lines = [];
    this.namespaces = new Set();
    this.opBytes = 0;
  }
}

/**
 * The request body. `final`: undefined for incremental syncs; false for a part of a
 * full_refresh run; true for its final request, with the run's `namespaces`.
 */
export function partBody(env: Envelope, ops: readonly string[], final?: boolean, namespaces: readonly string[] = []): string {
  let head =
    `{"organization_id":${JSON.stringify(env.organizationId)},"vector_store_id":${JSON.stringify(env.vectorStoreId)},` +
    `"sync_mode":${JSON.stringify(env.mode)},"sync_timestamp":${JSON.stringify(env.syncTimestamp)}`;
  if (final !== undefined) head += `,"final":${final}`;
  if (final === true && namespaces.length > 0) head += `,"namespaces":${JSON.stringify(namespaces)}`;
  return `${head},"operations":[${ops.join(",")}]}`;
}

export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * Idempotency-Key of a part: the same store, run timestamp, part number and body always give the
 * same key, so a re-run of the same push sends the same keys and the server replays its stored
 * answers instead of applying anything again. The body hash makes a changed part a new key (never
 * 422 IDEMPOTENCY_KEY_REUSED).
 */
export function partKey(vectorStoreId: string, syncTimestamp: string, part: number, bodyHash: string): string {
  const digest = sha256Hex(`unified-sync push\n${vectorStoreId}\n${syncTimestamp}\n${part}\n${bodyHash}`);
  return `usp-${part}-${digest.slice(0, 48)}`;
}
