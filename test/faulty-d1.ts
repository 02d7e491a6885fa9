/**
 * A test-only wrapper around the real D1 binding that fails the N-th round trip (a batch or a
 * single statement), as a D1 outage or timeout in the middle of a sync would.
 */
export function failingD1(real: D1Database, failAt: number): D1Database {
  let trips = 0;
  const trip = () => {
    trips += 1;
    if (trips === failAt) throw new Error(`injected D1 fault at round trip ${failAt}`);
  };
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args));
        if (["first", "all", "run", "raw"].includes(String(prop))) {
          return async (...args: unknown[]) => { trip(); return value.apply(target, args); };
        }
        return value.bind(target);
      },
    });
  const unwrap = new WeakMap<object, D1PreparedStatement>();
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          const stmt = target.prepare(sql);
          const wrapped = wrap(stmt);
          unwrap.set(wrapped, stmt);
          return wrapped;
        };
      }
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => { trip(); return target.batch(statements); };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
