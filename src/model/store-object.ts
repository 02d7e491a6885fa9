// The store object's RPC contract: what the Worker side sends it and what it answers. The
// Bindings type STORE_SYNC by StoreObjectRpc, never by the class, so nothing below the object
// depends on it.
import type { z } from "zod";
import type { ErrorCode, ErrorType } from "../base/error-codes";
import type { SyncResponse } from "../schemas/sync";
import type { SearchRequest, SearchResponse } from "../schemas/search";
import type { NamespaceDeletionResponse } from "../schemas/lists";
import type { MoveResponse, ReconcileResponse } from "../schemas/responses";
import type { VectorStore } from "./store";
import type { SyncMode } from "./plan";
import type { OperationSource } from "./operations";

/** A bookmark as the API shows it: which shard it belongs to, and D1's own bookmark. */
export interface ShardBookmark {
  shard: number;
  bookmark: string;
}

export type MovePhase = MoveReport["phase"];

/** A shard move's state, as the store's object keeps it between calls. */
export type MoveState = Omit<MoveReport, "vector_store_id" | "done">;

/** An error refused with, as it crosses back from the object: an ApiError does not survive RPC as a class. */
export interface RefusedError {
  status: number;
  code: ErrorCode;
  message: string;
  type: ErrorType;
  details: Record<string, unknown>;
  systemMessage: string;
  headers: Record<string, string>;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: RefusedError };

/** What a sync's call to the object answers. */
export type SyncOutcome =
  | { ok: true; response: SyncResponse; replayed: boolean; bookmark: ShardBookmark | null }
  | { ok: false; error: RefusedError };

/** A move's answer: where it stands (call again while `done` is false). */
export type MoveReport = z.infer<typeof MoveResponse>;

export interface IdempotencyRequest {
  organizationId: string;
  key: string;
  /**
   * The request body without its operations, as canonical JSON. The body's hash is taken over it
   * and each operation's canonical JSON (hashed as the store's object checks them), so the same
   * request re-serialised (key order, spacing) is the same request.
   */
  envelope: string;
}

/** Who asks for a sync: checked in the store's object, against the catalog (syncRoutes checks the rest locally). */
export interface SyncAccess {
  storeId: string;
  organizationId: string;
  /** The API key's id: a revoked key is refused before anything else is answered. */
  apiKeyId: string;
}

export interface SyncInput {
  mode: SyncMode;
  syncTimestamp: string;
  /** Parsed operations, or a body's bytes with where each operation lies (parsed one batch at a time). */
  operations: OperationSource;
  /** full_refresh: false for a part of a run, true for its final request, absent for a run of one request. */
  final?: boolean;
  /** A run's final request: namespaces it empties too. */
  namespaces?: string[];
}

/** One page of reconciliation (POST /v1/admin/vector_stores/{id}/reconcile). */
export type ReconcileReport = z.infer<typeof ReconcileResponse>;

/** One page of a namespace's deletion (DELETE /v1/vector_stores/{id}/namespaces/{namespace}). */
export type NamespaceDeletion = z.infer<typeof NamespaceDeletionResponse>;

/** What a search answers. */
export type SearchAnswer = z.infer<typeof SearchResponse>;

/**
 * The store object's RPC methods, as its callers see them: the Bindings type STORE_SYNC by this
 * interface, and the object's class implements it.
 */
export interface StoreObjectRpc extends Rpc.DurableObjectBranded {
  sync(access: SyncAccess, input: SyncInput, idempotency: IdempotencyRequest | null): Promise<SyncOutcome>;
  reconcile(store: VectorStore, cursor: string | null, limit: number): Promise<ReconcileReport>;
  /** null: no such namespace; "moving": the store's ledger is being moved (retry). */
  deleteNamespace(store: VectorStore, namespace: string): Promise<NamespaceDeletion | null | "moving">;
  moveLedger(store: VectorStore, to: number, maxQueries?: number): Promise<MoveReport | { error: string }>;
  search(store: VectorStore, request: SearchRequest, bookmark: ShardBookmark | null): Promise<Outcome<SearchAnswer>>;
}
