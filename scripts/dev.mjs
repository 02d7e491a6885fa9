#!/usr/bin/env node
// `npm run dev`: offline development server with no Cloudflare login.
// 1. creates .dev.vars from .dev.vars.example when missing;
// 2. applies schema.sql to the local D1 and seeds org_abc123 / vs_demo / DEV_API_KEY;
// 3. runs `wrangler dev --env dev` on 127.0.0.1:8787 (extra arguments, e.g. --port N, pass through).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const extraArgs = process.argv.slice(2);

function readVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

function run(args) {
  const r = spawnSync(wrangler, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`wrangler ${args.join(" ")} failed (${r.status})`);
  }
}

const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
  copyFileSync(join(root, ".dev.vars.example"), devVars);
  console.log("created .dev.vars from .dev.vars.example");
}
const vars = readVars(devVars);
if (!vars.DEV_API_KEY) throw new Error(".dev.vars has no DEV_API_KEY");

const org = "org_abc123";
const store = "vs_demo";
const seedSql = `${readFileSync(join(root, "schema.sql"), "utf8")}
INSERT INTO vector_stores (id, organization_id, name, created_at, embedding_model, dimensions)
VALUES ('${store}', '${org}', 'Demo store', '${new Date().toISOString()}', '@cf/baai/bge-base-en-v1.5', 768)
ON CONFLICT (id) DO NOTHING;
`;
const tmp = mkdtempSync(join(tmpdir(), "sync-dev-"));
const seedFile = join(tmp, "seed.sql");
writeFileSync(seedFile, seedSql);
run(["d1", "execute", "DB", "--local", "--env", "dev", "--file", seedFile]);

// KV holds only the key's SHA-256 (src/auth/api-keys.ts), also for the development key.
const hash = createHash("sha256").update(vars.DEV_API_KEY).digest("hex");
const record = { key_id: "key_dev", organization_id: org, vector_store_ids: null, created_at: new Date().toISOString(), revoked: false };
const kvFile = join(tmp, "kv.json");
writeFileSync(kvFile, JSON.stringify([
  { key: `key:${hash}`, value: JSON.stringify(record) },
  { key: "keyid:key_dev", value: hash },
]));
run(["kv", "bulk", "put", kvFile, "--binding", "API_KEYS", "--local", "--env", "dev"]);
console.log(`seeded ${org} / ${store} with the DEV_API_KEY from .dev.vars`);

const hasPort = extraArgs.some((a) => a === "--port" || a.startsWith("--port="));
const hasIp = extraArgs.some((a) => a === "--ip" || a.startsWith("--ip="));
const args = ["dev", "--env", "dev", ...(hasIp ? [] : ["--ip", "127.0.0.1"]), ...(hasPort ? [] : ["--port", "8787"]), ...extraArgs];
// Own process group, so stopping `npm run dev` stops wrangler, workerd and esbuild with it.
const child = spawn(wrangler, args, { cwd: root, stdio: "inherit", detached: true });
const stop = (signal) => {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
process.on("exit", () => stop("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
