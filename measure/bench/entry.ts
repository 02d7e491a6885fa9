// Entry of the benchmark build only: the dev worker (same app, same local stand-ins) with a
// thin counting wrapper around the D1 binding, and routes that read and reset the counters,
// switch the phase profile on and read it, and check how workerd's clocks move.
import worker from "../../src/index";
import { resetStats, stats } from "../../src/local/faults";
import type { Bindings } from "../../src/env";
import { profileReset, profileSnapshot, setProfiling } from "../../src/base/profile";
import { wrapD1 } from "../d1-wrapper";

import { VectorStoreSync } from "../../src/store/store-object";

export { LocalEmbedder, LocalVectorIndex, LocalVectorStore } from "../../src/dev-entry";

const emptyD1 = () => ({ roundTrips: 0, statements: 0, rowsRead: 0, rowsWritten: 0, sizeAfter: 0, unmetered: 0, sqlMs: 0 });
let d1 = emptyD1();

/**
 * Round trips and statements, and from D1's answers: rows read and written, the database's size
 * after, and the time its SQLite spent on the statements (`meta.duration`): local D1 runs in the
 * same workerd process, production's does not run in the Worker.
 */
const countingD1 = (db: D1Database) =>
  wrapD1(
    db,
    (trip) => {
      d1.roundTrips += 1;
      d1.statements += trip.statements.length;
    },
    (results, trip) => {
      if (results.length < trip.statements.length) d1.unmetered += trip.statements.length - results.length;
      for (const { meta } of results) {
        d1.rowsRead += meta?.rows_read ?? 0;
        d1.rowsWritten += meta?.rows_written ?? 0;
        d1.sqlMs += meta?.duration ?? 0;
        if (typeof meta?.size_after === "number") d1.sizeAfter = meta.size_after;
      }
    },
  );

/**
 * The per-store object, with the same counting D1 (the engine's reads and writes happen in it):
 * the catalog and ledger shard 0, one database here (miniflareTarget) as in a one-database deploy.
 */
export class BenchVectorStoreSync extends VectorStoreSync {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, { ...env, DB: countingD1(env.DB), LEDGER_0: countingD1(env.LEDGER_0) });
  }
}

/**
 * Does workerd's clock move during CPU work? Spins for `spinMs` of Node's idea of time (the bench
 * passes a loop count), then reads the clocks before and after a timer and a D1 query.
 */
async function clockCheck(env: Bindings, loops: number) {
  const t0 = performance.now();
  const d0 = Date.now();
  let x = 0;
  for (let i = 0; i < loops; i++) x = (x + Math.sqrt(i)) % 1e9;
  const t1 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 0));
  const t2 = performance.now();
  await env.DB.prepare("SELECT 1").all();
  const t3 = performance.now();
  return { spin: t1 - t0, spinDate: Date.now() - d0, afterTimer: t2 - t0, afterD1: t3 - t0, x };
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext) {
    const url = new URL(request.url);
    const { pathname } = url;
    if (pathname === "/__bench/counters") return Response.json({ d1: { ...d1 }, ...stats() });
    if (pathname === "/__bench/reset") {
      d1 = emptyD1();
      resetStats();
      return Response.json({ ok: true });
    }
    if (pathname === "/__bench/d1-size") {
      const { meta } = await env.DB.prepare("SELECT 1").all();
      return Response.json({ size: meta.size_after ?? null });
    }
    if (pathname === "/__bench/profile/on") {
      setProfiling(true);
      profileReset();
      return Response.json({ ok: true });
    }
    if (pathname === "/__bench/profile") {
      const snapshot = profileSnapshot();
      profileReset();
      return Response.json(snapshot);
    }
    if (pathname === "/__bench/clock") return Response.json(await clockCheck(env, Number(url.searchParams.get("loops") ?? 1e7)));
    return worker.fetch(request, { ...env, DB: countingD1(env.DB), LEDGER_0: countingD1(env.LEDGER_0) }, ctx);
  },
};
