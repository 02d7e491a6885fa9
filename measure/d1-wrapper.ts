/**
 * A thin wrapper around the real D1 binding that reports every round trip (a batch, or one
 * statement's first/all/run/raw) with the SQL and bound parameters it carries, before it runs.
 * A hook that throws makes that round trip fail. Used by tests (limits, injected faults) and by
 * the benchmark's build (counting).
 *
 * An optional second hook sees what D1 answered, `meta` included (rows read and written, the
 * database's size after): each statement's `D1Result` in order, once the round trip has
 * succeeded. `first()` has no `meta` of its own, so while that hook is given a `first()` runs as
 * `all()` and answers the first row (or its column) from it, which is what D1's `first()` does;
 * `raw()` runs as it is and is reported with an empty result list (its `meta` cannot be seen).
 */
export interface RoundTrip {
  statements: { sql: string; params: unknown[] }[];
}

export type OnResults = (results: D1Result[], trip: RoundTrip) => void;

const described = new WeakMap<object, { sql: string; params: unknown[] }>();

export function wrapD1(real: D1Database, onRoundTrip: (trip: RoundTrip) => void, onResults?: OnResults): D1Database {
  const wrap = (stmt: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const proxy: D1PreparedStatement = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), sql, args);
        if (["first", "all", "run", "raw"].includes(String(prop))) {
          return async (...args: unknown[]) => {
            const trip = { statements: [{ sql, params }] };
            onRoundTrip(trip);
            if (!onResults) return value.apply(target, args);
            if (prop === "first") {
              const result = await target.all();
              onResults([result], trip);
              const row = (result.results[0] ?? null) as Record<string, unknown> | null;
              const column = args[0] as string | undefined;
              if (row === null || column === undefined) return row;
              if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
              return row[column];
            }
            const answer = await value.apply(target, args);
            onResults(prop === "raw" ? [] : [answer as D1Result], trip);
            return answer;
          };
        }
        return value.bind(target);
      },
    });
    described.set(proxy, { sql, params });
    return proxy;
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql, []);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const trip = { statements: statements.map((s) => described.get(s) ?? { sql: "?", params: [] }) };
          onRoundTrip(trip);
          const results = await target.batch(statements);
          onResults?.(results as D1Result[], trip);
          return results;
        };
      }
      // A session (D1's read replication) reports its round trips the same way.
      if (prop === "withSession" && typeof target.withSession === "function") {
        return (constraintOrBookmark?: string) =>
          wrapD1(target.withSession(constraintOrBookmark) as unknown as D1Database, onRoundTrip, onResults);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
