// The project's own ledger code (loadLedger, commitPlan) in Node scripts, over better-sqlite3
// behind enough of D1Database: prepare/bind, run/all, and batch in one transaction. Used by
// npm run storage and npm run capacity -- --calibrate.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/** src/db/ledger.ts, bundled with esbuild and imported: its exports (loadLedger, commitPlan, ...). */
export function importLedger() {
  return importSource("src/db/ledger.ts");
}

/** A module of the project (a path from the repository's root), bundled with esbuild and imported. */
export async function importSource(path) {
  const bundled = await build({
    entryPoints: [join(root, path)],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    logLevel: "error",
  });
  return import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);
}

/** `onBatch(ms)`, when given, hears how long each batch's transaction took. */
export function d1Shim(sqlite, { onBatch } = {}) {
  const cache = new Map();
  // better-sqlite3 binds named parameters only by object: ?N becomes @pN.
  const statementOf = (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = sqlite.prepare(sql.replace(/\?(\d+)/g, "@p$1"));
      cache.set(sql, s);
    }
    return s;
  };
  const exec = ({ sql, params }) => {
    const s = statementOf(sql);
    const values = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, typeof v === "boolean" ? Number(v) : v]));
    if (s.reader) return { results: s.all(values), success: true, meta: {} };
    const info = s.run(values);
    return { results: [], success: true, meta: { changes: info.changes } };
  };
  const prepared = (sql, params = []) => ({
    sql,
    params,
    bind: (...values) => prepared(sql, values),
    run: async () => exec(prepared(sql, params)),
    all: async () => exec(prepared(sql, params)),
  });
  const transaction = sqlite.transaction((statements) => statements.map(exec));
  return {
    prepare: (sql) => prepared(sql),
    batch: async (statements) => {
      const started = performance.now();
      const out = transaction(statements);
      onBatch?.(performance.now() - started);
      return out;
    },
  };
}
