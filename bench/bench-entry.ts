// Entry of the benchmark build only: the dev worker (same app, same local stand-ins) with a
// thin counting wrapper around the D1 binding, and two routes that read and reset the counters.
import worker from "../src/index";
import { resetStats, stats } from "../src/local/faults";
import type { Bindings } from "../src/env";
import { wrapD1 } from "../test/d1-wrapper";

import { VectorStoreSync } from "../src/sync/vector-store-sync";

export { LocalEmbedder, LocalVectorIndex, LocalVectorStore } from "../src/dev-entry";

const d1 = { roundTrips: 0, statements: 0 };

const countingD1 = (db: D1Database) =>
  wrapD1(db, (trip) => {
    d1.roundTrips += 1;
    d1.statements += trip.statements.length;
  });

/** The per-store object, with the same counting D1 (the engine's reads and writes happen in it). */
export class BenchVectorStoreSync extends VectorStoreSync {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, { ...env, DB: countingD1(env.DB) });
  }
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__bench/counters") return Response.json({ d1: { ...d1 }, ...stats() });
    if (pathname === "/__bench/reset") {
      d1.roundTrips = 0;
      d1.statements = 0;
      resetStats();
      return Response.json({ ok: true });
    }
    return worker.fetch(request, { ...env, DB: countingD1(env.DB) }, ctx);
  },
};
