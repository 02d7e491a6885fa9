/**
 * A thin wrapper around the real D1 binding that records what the service asks of it:
 * round trips (batch/first/all/run/raw), and each statement's bound parameters, so tests can
 * check the production limits that local D1 does not enforce (100 parameters, 2 MB values).
 */
export interface D1Spy {
  db: D1Database;
  roundTrips: number;
  statements: { sql: string; params: unknown[] }[];
}

export function spyD1(real: D1Database): D1Spy {
  const spy: D1Spy = { db: undefined as unknown as D1Database, roundTrips: 0, statements: [] };
  const wrapStatement = (sql: string, stmt: D1PreparedStatement, params: unknown[]): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") {
          return (...values: unknown[]) => wrapStatement(sql, target.bind(...values), values);
        }
        if (prop === "__sql") return { sql, params };
        const value = Reflect.get(target, prop, target);
        if (typeof value === "function" && ["first", "all", "run", "raw"].includes(String(prop))) {
          return (...args: unknown[]) => {
            spy.roundTrips += 1;
            spy.statements.push({ sql, params });
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  spy.db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrapStatement(sql, target.prepare(sql), []);
      if (prop === "batch") {
        return (stmts: D1PreparedStatement[]) => {
          spy.roundTrips += 1;
          for (const s of stmts) spy.statements.push((s as unknown as { __sql: { sql: string; params: unknown[] } }).__sql);
          return target.batch(stmts.map((s) => s));
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return spy;
}
