/**
 * A thin wrapper around the real D1 binding that reports every round trip (a batch, or one
 * statement's first/all/run/raw) with the SQL and bound parameters it carries, before it runs.
 * A hook that throws makes that round trip fail. Used by tests (limits, injected faults) and by
 * the benchmark's build (counting).
 */
export interface RoundTrip {
  statements: { sql: string; params: unknown[] }[];
}

const described = new WeakMap<object, { sql: string; params: unknown[] }>();

export function wrapD1(real: D1Database, onRoundTrip: (trip: RoundTrip) => void): D1Database {
  const wrap = (stmt: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const proxy: D1PreparedStatement = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), sql, args);
        if (["first", "all", "run", "raw"].includes(String(prop))) {
          return async (...args: unknown[]) => {
            onRoundTrip({ statements: [{ sql, params }] });
            return value.apply(target, args);
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
          onRoundTrip({ statements: statements.map((s) => described.get(s) ?? { sql: "?", params: [] }) });
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
