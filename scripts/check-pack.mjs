#!/usr/bin/env node
// npm run check:pack: the CLI works installed from its tarball, with no checkout and no
// devDependencies. Packs the package (npm's prepack bundles the CLI: bundleCli),
// checks the tarball holds only what runs, installs it into an empty prefix with --omit=dev (from
// npm's cache when it has the packages), then runs the installed `unified-sync --help` and a push
// of three records against a dev server of its own (free ports, its own local state), and reads
// the records back. Prints the tarball's and the bundle's sizes and each step's time.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devVar, root, startDevServer, stopDevServer } from "./dev-server.mjs";

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "unified-sync-pack-"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const started = Date.now();
const step = (name, t0) => console.log(`check:pack: ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

function fail(message) {
  console.error(`check:pack: FAILED: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function admin(base, path, body) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${devVar("ADMIN_TOKEN")}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) fail(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

let server = null;
try {
  // 1. Pack (prepack bundles the CLI, postpack removes the bundle from the checkout again).
  let t0 = Date.now();
  const packed = JSON.parse(run(npm, ["pack", "--json", "--pack-destination", work], { cwd: root }).stdout)[0];
  const tarball = join(work, packed.filename);
  const shipped = packed.files.map((f) => f.path).sort();
  const expected = [...pkg.files, "README.md", "package.json"].sort();
  if (JSON.stringify(shipped) !== JSON.stringify(expected)) {
    fail(`the tarball holds ${JSON.stringify(shipped)}, expected exactly ${JSON.stringify(expected)}`);
  }
  if (existsSync(join(root, "cli", "dist"))) fail("postpack left cli/dist in the checkout: the launcher would not run the sources");
  const bundle = packed.files.find((f) => f.path === "cli/dist/unified-sync.mjs");
  console.log(
    `check:pack: ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${shipped.length} files; ` +
      `CLI bundle ${bundle.size} bytes`,
  );
  step("packed", t0);

  // 2. Install into an empty prefix, as a user would, without devDependencies.
  t0 = Date.now();
  const prefix = join(work, "prefix");
  run(npm, ["install", "-g", "--prefix", prefix, tarball, "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: work });
  const installed = join(prefix, "lib", "node_modules", pkg.name);
  for (const dev of ["esbuild", "wrangler", "typescript"]) {
    if (existsSync(join(installed, "node_modules", dev))) fail(`the install holds the devDependency ${dev}`);
  }
  const bin = join(prefix, "bin", "unified-sync");
  step("installed with --omit=dev", t0);

  // 3. The installed command, run from outside the checkout.
  t0 = Date.now();
  const env = { ...process.env };
  delete env.UNIFIED_SYNC_API_KEY;
  delete env.UNIFIED_SYNC_URL;
  const help = run(bin, ["push", "--help"], { cwd: work, env });
  if (!help.stdout.includes("--store <vs_id>")) fail(`unified-sync push --help printed:\n${help.stdout}`);
  run(bin, ["--help"], { cwd: work, env });
  step("--help", t0);

  // 4. A push against a dev server.
  t0 = Date.now();
  server = await startDevServer({ persistTo: join(work, "state"), ownGroup: true, limitMs: 180_000 });
  step("dev server up", t0);
  t0 = Date.now();
  const org = `org_pack_${Math.random().toString(36).slice(2, 10)}`;
  const store = (await admin(server.base, "/v1/admin/vector-stores", { organization_id: org })).id;
  const key = (await admin(server.base, "/v1/admin/api-keys", { organization_id: org })).api_key;
  const file = join(work, "tasks.jsonl");
  writeFileSync(file, ["a", "b", "c"].map((id) => JSON.stringify({ id, title: `Task ${id}` })).join("\n"));
  const pushed = run(
    bin,
    ["push", file, "--org", org, "--store", store, "--namespace", "tasks", "--url", server.base, "--json", "--no-progress"],
    {
      cwd: work,
      env: { ...env, UNIFIED_SYNC_API_KEY: key },
    },
  );
  const summary = JSON.parse(pushed.stdout);
  if (summary.exit_code !== 0 || summary.results.upserted !== 3) fail(`the push answered ${pushed.stdout}`);
  const res = await fetch(`${server.base}/v1/vector_stores/${store}/namespaces`, { headers: { "X-API-Key": key } });
  const namespaces = (await res.json()).namespaces;
  if (namespaces.find((n) => n.namespace === "tasks")?.record_count !== 3) fail(`namespaces after the push: ${JSON.stringify(namespaces)}`);
  step("pushed 3 records with the installed CLI", t0);
  console.log(`check:pack: OK (${((Date.now() - started) / 1000).toFixed(1)} s; tarball ${statSync(tarball).size} bytes)`);
} catch (err) {
  if (!process.exitCode) console.error(`check:pack: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (server) await stopDevServer(server);
  rmSync(work, { recursive: true, force: true });
}
