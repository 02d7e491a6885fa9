import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";
import { ApiError } from "../errors";
import type { VectorStore } from "../db/vector-stores";
import type { SyncResponse } from "../schemas/sync";
import { vectorDeps } from "../vectors/deps";
import { runIdempotentSync, type IdempotencyRequest } from "./idempotency";
import type { SyncInput } from "./engine";
import { reconcilePage, type ReconcileReport } from "../vectors/reconcile";
import { deleteNamespacePage, type NamespaceDeletion } from "../vectors/namespace-delete";

/** What crosses back from the object: an ApiError does not survive RPC as a class, so it travels as data. */
export type SyncOutcome =
  | { ok: true; response: SyncResponse; replayed: boolean }
  | {
      ok: false;
      error: {
        status: number;
        code: string;
        message: string;
        type: string;
        details: Record<string, unknown>;
        systemMessage: string;
        headers: Record<string, string>;
      };
    };

/**
 * One object per vector store: every sync of a store runs here, one at a time, so two requests
 * never interleave their ledger reads, vector writes and ledger commits (which could leave the
 * index holding an older request's vectors under a newer ledger row). Reads (search, status,
 * records) do not come here and stay concurrent.
 */
export class VectorStoreSync extends DurableObject<Bindings> {
  // A Durable Object runs one event at a time only until it awaits I/O; this queue keeps whole
  // syncs apart, across their awaits.
  private tail: Promise<unknown> = Promise.resolve();

  async sync(store: VectorStore, input: SyncInput, idempotency: IdempotencyRequest | null): Promise<SyncOutcome> {
    return this.serially(() => this.runOne(store, input, idempotency));
  }

  /** Reconciliation writes to the index too, so it takes its turn between syncs. */
  async reconcile(store: VectorStore, cursor: string | null, limit: number): Promise<ReconcileReport> {
    return this.serially(() => reconcilePage({ db: this.env.DB, ...vectorDeps(this.env) }, store, cursor, limit));
  }

  /** Deleting a namespace removes vectors and ledger rows together, so it takes its turn too. */
  async deleteNamespace(store: VectorStore, namespace: string): Promise<NamespaceDeletion | null> {
    return this.serially(() => deleteNamespacePage({ db: this.env.DB, ...vectorDeps(this.env) }, store, namespace));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runOne(store: VectorStore, input: SyncInput, idempotency: IdempotencyRequest | null): Promise<SyncOutcome> {
    try {
      // input is this call's own copy (RPC cloned it): its bytes are let go once checked.
      const { response, replayed } = await runIdempotentSync({ db: this.env.DB, ...vectorDeps(this.env) }, store, input, idempotency, {
        consumeOperations: true,
      });
      return { ok: true, response, replayed };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return {
        ok: false,
        error: {
          status: err.status,
          code: err.code,
          message: err.message,
          type: err.type,
          details: err.details,
          systemMessage: err.systemMessage,
          headers: err.headers,
        },
      };
    }
  }
}

/** Runs a sync in its store's object and turns a refused outcome back into the ApiError it was. */
export async function syncThroughStoreObject(
  ns: DurableObjectNamespace<VectorStoreSync>,
  store: VectorStore,
  input: SyncInput,
  idempotency: IdempotencyRequest | null,
): Promise<{ response: SyncResponse; replayed: boolean }> {
  const stub = ns.get(ns.idFromName(store.id));
  const outcome = (await stub.sync(store, input, idempotency)) as SyncOutcome;
  if (outcome.ok) return { response: outcome.response, replayed: outcome.replayed };
  const e = outcome.error;
  throw new ApiError(e.status as ApiError["status"], e.code, e.message, e.type as ApiError["type"], e.details, e.systemMessage, e.headers);
}
