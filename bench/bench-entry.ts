// Entry of the benchmark build only: the dev worker (same app, same local stand-ins) with a
// thin counting wrapper around the D1 binding, and two routes that read and reset the counters.
import worker from "../src/index";
import { resetStats, stats } from "../src/local/faults";
import type { Bindings } from "../src/env";

import { VectorStoreSync } from "../src/sync/vector-store-sync";

export { LocalEmbedder, LocalVectorIndex, LocalVectorStore } from "../src/dev-entry";

const d1 = { roundTrips: 0, statements: 0 };

function countingD1(db: D1Database): D1Database {
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (["first", "all", "run", "raw"].includes(String(prop))) {
          return (...args: unknown[]) => {
            d1.roundTrips += 1;
            d1.statements += 1;
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
  const raw = new WeakMap<object, D1PreparedStatement>();
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          const stmt = target.prepare(sql);
          const wrapped = wrapStatement(stmt);
          raw.set(wrapped, stmt);
          return wrapped;
        };
      }
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          d1.roundTrips += 1;
          d1.statements += statements.length;
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

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
