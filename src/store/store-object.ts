import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";
import { ApiError } from "../base/errors";
import { randomToken } from "../base/crypto";
import { storeDeps } from "./deps";
import { ledgerOf } from "../db/placement";
import { switchLedgerShard } from "../db/vector-stores";
import { advanceMove, newMoveState } from "../db/shard-move";
import { runStoreSync } from "./store-sync";
import { readSession } from "../db/sessions";
import { searchStore } from "./search";
import type { SearchRequest } from "../schemas/search";

import { reconcilePage } from "./reconcile";
import { searchableChunks } from "../vectors/vector-sync";
import { deleteNamespacePage } from "./namespace-delete";
import type { VectorStore } from "../model/store";
import type {
  MoveState,
  IdempotencyRequest,
  SyncAccess,
  ShardBookmark,
  SyncInput,
  RefusedError,
  Outcome,
  SyncOutcome,
  MoveReport,
} from "../model/store-object";
import type { ReconcileReport, NamespaceDeletion, StoreObjectRpc, SearchAnswer } from "../model/store-object";

/** D1 round trips one call of a shard move makes at most (a Worker invocation's subrequests are limited). */
export const MOVE_QUERIES_PER_CALL = 400;

/** The object's record of its store's last switch: a row that names `from` means `to`. */
const MOVED_TO = "moved";
interface MovedTo {
  from: number;
  to: number;
}
const MOVE = "move";

/**
 * One object per vector store: every sync of a store runs here, one at a time, so two requests
 * never interleave their ledger reads, vector writes and ledger commits (which could leave the
 * index holding an older request's vectors under a newer ledger row). Reads (search, status,
 * records) do not come here and stay concurrent. A shard move of the store runs here too, and the
 * object remembers where it moved the store: a request that read the store's placement before the
 * switch still reaches the new shard.
 */
export class VectorStoreSync extends DurableObject<Bindings> implements StoreObjectRpc {
  // A Durable Object runs one event at a time only until it awaits I/O; this queue keeps whole
  // syncs apart, across their awaits.
  private tail: Promise<unknown> = Promise.resolve();
  /** Work left by the last sync for after its answer (completing its Idempotency-Key). */
  private afterwards: Promise<void> = Promise.resolve();
  /** The store as last read from the catalog (placed): its next sync reads its ledger at once. */
  private lastSeen: VectorStore | null = null;
  /** This instance's prefix of reservation ids (StoreSyncDeps.instancePrefix): new with every instance. */
  private readonly instancePrefix = `idr_${randomToken(8)}_`;

  /**
   * A sync of this store. Its access is checked here, in the object's first round of D1 calls
   * (runStoreSync): the Worker calls no D1 on the sync path.
   */
  async sync(access: SyncAccess, input: SyncInput, idempotency: IdempotencyRequest | null): Promise<SyncOutcome> {
    return this.serially(() => this.runOne(access, input, idempotency));
  }

  /** Reconciliation writes to the index too, so it takes its turn between syncs. */
  async reconcile(store: VectorStore, cursor: string | null, limit: number): Promise<ReconcileReport> {
    return this.serially(async () => {
      const placed = await this.placed(store);
      // While the ledger is half copied, nothing is checked: the next run comes back to this page.
      if (!placed) return { checked: 0, missing: 0, repaired: 0, stale_deleted: 0, failed: 0, keywords_repaired: 0, next_cursor: cursor };
      return reconcilePage(storeDeps(this.env, placed), placed, cursor, limit);
    });
  }

  /** Deleting a namespace removes vectors and ledger rows together, so it takes its turn too. */
  async deleteNamespace(store: VectorStore, namespace: string): Promise<NamespaceDeletion | null | "moving"> {
    return this.serially(async () => {
      const placed = await this.placed(store);
      return placed ? deleteNamespacePage(storeDeps(this.env, placed), placed, namespace) : "moving";
    });
  }

  /**
   * Moves the store's ledger to shard `to` (advanceMove), as far as one call's budget
   * allows; calling again resumes. Syncs queued meanwhile run after this call, on the shard the
   * store is then on. Between the calls of a move that needs several, the store's syncs are refused
   * (503 STORE_MOVING) until the copy is complete and the catalog switched; the source's rows are
   * deleted after the switch, with syncs running again.
   */
  async moveLedger(store: VectorStore, to: number, maxQueries = MOVE_QUERIES_PER_CALL): Promise<MoveReport | { error: string }> {
    return this.serially(async () => {
      let state = await this.ctx.storage.get<MoveState>(MOVE);
      if (state && state.to !== to && state.phase !== "done") {
        return { error: `a move of this store to ledger shard ${state.to} is under way: finish it first` };
      }
      if (!state || state.phase === "done") {
        const from = (await this.placed(store))?.ledger_shard ?? store.ledger_shard;
        if (from === to) return { error: `the store is already on ledger shard ${to}` };
        state = newMoveState(from, to);
        await this.ctx.storage.put(MOVE, state);
      }
      const current = state;
      await advanceMove(
        {
          source: ledgerOf(this.env, { ledger_shard: current.from }),
          target: ledgerOf(this.env, { ledger_shard: current.to }),
          storeId: store.id,
          maxQueries,
          switchPlacement: async (next) => {
            if (!(await switchLedgerShard(this.env.DB, store.id, current.from, current.to))) {
              // Only this object switches a store's shard: the catalog already says `to` after an
              // interrupted call, anything else is a concurrent admin change.
              const row = await this.env.DB.prepare("SELECT ledger_shard FROM vector_stores WHERE id = ?1")
                .bind(store.id)
                .first<{ ledger_shard: number }>();
              if (row?.ledger_shard !== current.to) throw new Error(`store ${store.id} is not on ledger shard ${current.from} any more`);
            }
            // The object's record of the switch and the move's next phase, in one write.
            const moved: MovedTo = { from: current.from, to: current.to };
            await this.ctx.storage.put({ [MOVED_TO]: moved, [MOVE]: next });
            if (this.lastSeen) this.lastSeen = { ...this.lastSeen, ledger_shard: current.to };
          },
          save: (next) => this.ctx.storage.put(MOVE, next),
          keywordTexts: (record) => searchableChunks(store, record),
        },
        current,
      );
      return { vector_store_id: store.id, ...current, done: current.phase === "done" };
    });
  }

  /**
   * The store as this object knows it: on the shard it moved it to when the caller's row still
   * names the shard it moved it from (a caller may have read the placement before the switch), or
   * null while a move's copy is incomplete.
   */
  private async placed(store: VectorStore): Promise<VectorStore | null> {
    const move = await this.ctx.storage.get<MoveState>(MOVE);
    if (move && (move.phase === "clear" || move.phase === "records" || move.phase === "tables" || move.phase === "switch")) return null;
    const moved = await this.ctx.storage.get<MovedTo>(MOVED_TO);
    return moved && typeof moved === "object" && store.ledger_shard === moved.from ? { ...store, ledger_shard: moved.to } : store;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => this.afterwards).then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runOne(access: SyncAccess, input: SyncInput, idempotency: IdempotencyRequest | null): Promise<SyncOutcome> {
    try {
      // input is this call's own copy (RPC cloned it): its bytes are let go once checked.
      const result = await runStoreSync(
        {
          catalog: this.env.DB,
          depsFor: (store) => storeDeps(this.env, store),
          place: (store) => this.placed(store),
          lastSeen: this.lastSeen,
          instancePrefix: this.instancePrefix,
        },
        access,
        input,
        idempotency,
        { consumeOperations: true },
      );
      this.lastSeen = result.store;
      // The key's completion runs after the answer; the object's next task waits for it.
      if (result.after) {
        const after = result.after;
        this.afterwards = this.afterwards.then(() =>
          after().catch((err) =>
            console.warn(
              JSON.stringify({
                level: "warn",
                event: "idempotency_complete_failed",
                vector_store_id: access.storeId,
                message: String(err).slice(0, 300),
              }),
            ),
          ),
        );
      }
      return { ok: true, response: result.response, replayed: result.replayed, bookmark: result.bookmark ?? null };
    } catch (err) {
      return refused(err);
    }
  }

  /**
   * A search of this store, in one of its search objects (searchObject; never the sync object, so
   * no sync's CPU is in its way): beside D1's primary and (for the model of docs/measurements.md#latency) Workers
   * AI and Vectorize, so the Worker far away makes one call instead of three in a row. Its ledger
   * read goes to a replica, or to the client's bookmark.
   */
  async search(store: VectorStore, request: SearchRequest, bookmark: ShardBookmark | null): Promise<Outcome<SearchAnswer>> {
    try {
      const placed = (await this.placed(store)) ?? store;
      const deps = storeDeps(this.env, placed);
      // A bookmark is of one database: used only on the shard it came from.
      const from = bookmark?.shard === placed.ledger_shard ? bookmark.bookmark : null;
      return {
        ok: true,
        value: await searchStore({ ...deps, db: readSession(deps.db, from), primary: deps.db, reranker: this.env.AI }, placed, request),
      };
    } catch (err) {
      return refused(err);
    }
  }
}

/** An ApiError as data (it does not survive RPC as a class); anything else is rethrown. */
function refused(err: unknown): { ok: false; error: RefusedError } {
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
