// The call recorder of `npm run latency` (docs/measurements.md#latency): wraps every
// remote binding of an env so that each call made through it is recorded with who made it (the
// Worker or the Durable Object), what it reached and when it started and ended. Bindings are
// wrapped by name and shape only, never by what src/ does with them, so the recorder keeps working
// while the code that calls them changes.
//
// Ordering uses a counter shared by the Worker and the object (they run in one isolate in
// Miniflare): `startSeq`/`endSeq` say exactly which calls had finished before another began,
// which a millisecond clock cannot.

export type Caller = "worker" | "object";
export type Kind = "d1-primary" | "d1-replica" | "kv" | "kv-cached" | "ratelimit" | "object" | "ai" | "vectorize";

export interface Call {
  caller: Caller;
  /** The binding's name: DB, LEDGER_0, API_KEYS, STORE_SYNC, AI, VECTORIZE_1... */
  target: string;
  kind: Kind;
  /** The method called: first, all, run, raw, batch, get, limit, sync, run, upsert, query... */
  method: string;
  start: number;
  end: number;
  startSeq: number;
  endSeq: number;
  /** Texts embedded, vectors upserted, ids deleted or read, statements in a batch. */
  size?: number;
  /** A Durable Object stub's `locationHint`, as given to get()/getByName(). */
  locationHint?: string;
  /** A D1 session's constraint or "bookmark" (withSession's argument). */
  session?: string;
  failed?: boolean;
  /**
   * The code awaits this call only at the end of the request (its SQL carries the marker
   * CONCURRENT_MARK, as the API-key check's revocation read on the read paths does): the model
   * runs it as a branch of its own, which gates no other call.
   */
  concurrent?: boolean;
}

/** One request through the Worker's fetch, from entry to the Response handed back. */
export interface RequestSpan {
  method: string;
  path: string;
  start: number;
  end: number;
  startSeq: number;
  endSeq: number;
}

let seq = 0;
let calls: Call[] = [];
let requests: RequestSpan[] = [];

export const nextSeq = () => ++seq;

export function recorded() {
  return { requests, calls };
}

export function resetRecords() {
  calls = [];
  requests = [];
}

export function addRequest(span: RequestSpan) {
  requests.push(span);
}

type Base = Omit<Call, "start" | "end" | "startSeq" | "endSeq">;

async function record<T>(base: Base, run: () => T | Promise<T>): Promise<Awaited<T>> {
  const call = { ...base, start: performance.now(), startSeq: nextSeq(), end: 0, endSeq: 0 } as Call;
  calls.push(call);
  try {
    return await run();
  } catch (err) {
    call.failed = true;
    throw err;
  } finally {
    call.end = performance.now();
    call.endSeq = nextSeq();
  }
}

// --- D1 --------------------------------------------------------------------------------------

const WRITE_SQL = /^\s*(?:insert|update|delete|replace|create|drop|alter|pragma)\b|\b(?:insert\s+into|update\s+\w+\s+set|delete\s+from)\b/i;
const isWrite = (sql: string) => WRITE_SQL.test(sql);

const realStatement = new WeakMap<object, D1PreparedStatement>();
const statementSql = new WeakMap<object, string>();

/**
 * Where a session's next query goes: writes always to the primary; reads of a session begun with
 * "first-primary" to the primary for its first query, to a replica after (Cloudflare's D1 docs:
 * "subsequent queries in the Session may use read replicas"); reads of a "first-unconstrained"
 * session, or of one begun from a bookmark, to a replica (one at least as new as the bookmark).
 */
interface Route {
  kind(sqls: string[]): Kind;
  session?: string;
}

const primaryRoute: Route = { kind: () => "d1-primary" };

function sessionRoute(arg: unknown): Route {
  const constraint =
    arg === undefined || arg === "first-unconstrained" ? "first-unconstrained" : arg === "first-primary" ? arg : "bookmark";
  let first = true;
  return {
    session: constraint,
    kind(sqls) {
      const toPrimary = sqls.some(isWrite) || (constraint === "first-primary" && first);
      first = false;
      return toPrimary ? "d1-primary" : "d1-replica";
    },
  };
}

/** The SQL comment by which the code marks a query it awaits only at the end (the API-key check's revocation read). */
const CONCURRENT_MARK = "/* concurrent */";
const concurrent = (sql: string) => (sql.includes(CONCURRENT_MARK) ? { concurrent: true } : {});

function wrapStatement(stmt: D1PreparedStatement, sql: string, caller: Caller, target: string, route: Route): D1PreparedStatement {
  const proxy = new Proxy(stmt, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function") return value;
      if (prop === "bind") return (...args: unknown[]) => wrapStatement(Reflect.apply(value, real, args), sql, caller, target, route);
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return (...args: unknown[]) =>
          record({ caller, target, kind: route.kind([sql]), method: prop, ...session(route), ...concurrent(sql) }, () =>
            Reflect.apply(value, real, args),
          );
      }
      return value.bind(real);
    },
  });
  realStatement.set(proxy, stmt);
  statementSql.set(proxy, sql);
  return proxy;
}

const session = (route: Route) => (route.session ? { session: route.session } : {});

/** prepare/batch/exec of a database or of one of its sessions, recorded under `route`. */
function d1Methods(real: D1Database | D1DatabaseSession, caller: Caller, target: string, route: Route) {
  return {
    prepare: (sql: string) => wrapStatement(real.prepare(sql), sql, caller, target, route),
    batch: (statements: D1PreparedStatement[]) =>
      record(
        {
          caller,
          target,
          kind: route.kind(statements.map((s) => statementSql.get(s) ?? "")),
          method: "batch",
          size: statements.length,
          ...session(route),
        },
        () => real.batch(statements.map((s) => realStatement.get(s) ?? s)),
      ),
  };
}

export function recordD1(db: D1Database, caller: Caller, target: string): D1Database {
  const methods = d1Methods(db, caller, target, primaryRoute);
  return new Proxy(db, {
    get(real, prop) {
      if (prop === "prepare" || prop === "batch") return methods[prop];
      if (prop === "exec") {
        return (sql: string) => record({ caller, target, kind: "d1-primary", method: "exec" }, () => real.exec(sql));
      }
      if (prop === "withSession") {
        return (arg?: string) => {
          // Miniflare's D1 has sessions (one database, no replicas); the routing is modelled here.
          const withSession = (real as { withSession?: (a?: string) => D1DatabaseSession }).withSession;
          const inner = typeof withSession === "function" ? withSession.call(real, arg) : null;
          const route = sessionRoute(arg);
          const own = d1Methods(inner ?? real, caller, target, route);
          return {
            ...own,
            getBookmark: () => (inner ? inner.getBookmark() : null) ?? `latency-bookmark-${nextSeq()}`,
          } as unknown as D1DatabaseSession;
        };
      }
      const value = Reflect.get(real, prop, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

// --- KV, rate limits, Workers AI, Vectorize -------------------------------------------------

const hasCacheTtl = (options: unknown) =>
  typeof options === "object" && options !== null && (options as { cacheTtl?: unknown }).cacheTtl !== undefined;

export function recordKv(kv: KVNamespace, caller: Caller, target: string): KVNamespace {
  return new Proxy(kv, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function") return value;
      if (typeof prop !== "string") return value.bind(real);
      return (...args: unknown[]) => {
        const read = prop === "get" || prop === "getWithMetadata";
        const kind: Kind = read && hasCacheTtl(args[1]) ? "kv-cached" : "kv";
        return record({ caller, target, kind, method: prop }, () => Reflect.apply(value, real, args));
      };
    },
  });
}

/** How many items a call carries: texts to embed, vectors to upsert, ids to delete or read. */
function sizeOf(method: string, args: unknown[]): number | undefined {
  if (method === "run") {
    const text = (args[1] as { text?: unknown } | undefined)?.text;
    return Array.isArray(text) ? text.length : text === undefined ? undefined : 1;
  }
  const lists = ["upsert", "insert", "deleteByIds", "getByIds"];
  return lists.includes(method) && Array.isArray(args[0]) ? args[0].length : undefined;
}

/** Every method call on the binding is recorded (a service binding answers any property name). */
export function recordMethods<T extends object>(binding: T, caller: Caller, target: string, kind: Kind): T {
  return new Proxy(binding, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "then") return value;
      return (...args: unknown[]) =>
        record({ caller, target, kind, method: prop, size: sizeOf(prop, args) }, () => Reflect.apply(value, real, args));
    },
  });
}

// --- Durable Objects ---------------------------------------------------------------------------

const STUB_PROPERTIES = new Set(["id", "name", "then", "dup"]);

function recordStub<T extends object>(stub: T, caller: Caller, target: string, locationHint: string | undefined): T {
  return new Proxy(stub, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function" || typeof prop !== "string" || STUB_PROPERTIES.has(prop)) return value;
      return (...args: unknown[]) =>
        record({ caller, target, kind: "object", method: prop, ...(locationHint ? { locationHint } : {}) }, () =>
          Reflect.apply(value, real, args),
        );
    },
  });
}

const hintOf = (options: unknown) =>
  typeof options === "object" && options !== null ? ((options as { locationHint?: string }).locationHint ?? undefined) : undefined;

export function recordNamespace<T extends DurableObjectNamespace>(ns: T, caller: Caller, target: string): T {
  return new Proxy(ns, {
    get(real, prop) {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => recordStub(Reflect.apply(value, real, args), caller, target, hintOf(args[1]));
      }
      if (prop === "jurisdiction") return (...args: unknown[]) => recordNamespace(Reflect.apply(value, real, args), caller, target);
      return value.bind(real);
    },
  });
}

// --- the env -----------------------------------------------------------------------------------

const D1_BINDING = /^(?:DB|LEDGER_\d+)$/;
const VECTORIZE_BINDING = /^VECTORIZE(?:_\d+)?$/;
const RATE_LIMIT_BINDING = /_RATE_LIMITER$/;

/** A copy of `env` in which every remote binding the service uses records its calls as `caller`'s. */
export function recordingEnv<E extends object>(env: E, caller: Caller): E {
  const out = { ...env } as Record<string, unknown>;
  for (const [name, binding] of Object.entries(env)) {
    if ((typeof binding !== "object" && typeof binding !== "function") || binding === null) continue;
    if (D1_BINDING.test(name)) out[name] = recordD1(binding as D1Database, caller, name);
    else if (name === "API_KEYS") out[name] = recordKv(binding as KVNamespace, caller, name);
    else if (RATE_LIMIT_BINDING.test(name)) out[name] = recordMethods(binding, caller, name, "ratelimit");
    else if (name === "STORE_SYNC") out[name] = recordNamespace(binding as DurableObjectNamespace, caller, name);
    else if (name === "AI") out[name] = recordMethods(binding, caller, name, "ai");
    else if (VECTORIZE_BINDING.test(name)) out[name] = recordMethods(binding, caller, name, "vectorize");
  }
  return out as E;
}
