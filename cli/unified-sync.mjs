#!/usr/bin/env node
// The `unified-sync` command (package.json "bin"). The CLI is TypeScript (cli/*.ts) and shares the
// server's zod schemas (src/schemas) and the typed client (src/client), which Node 20 cannot run
// as they are.
// - Installed from a packed tarball (`npm pack`; the sources are not shipped): it runs the bundle
//   that the pack step made (bundleCli, npm's prepack), cli/dist/unified-sync.mjs.
//   No esbuild, no devDependencies.
// - In a checkout (cli/main.ts is here): it bundles cli/main.ts with esbuild's API on every start
//   (about 0.1 s; npm packages stay external and load from node_modules), writes the bundle under
//   node_modules/.cache/unified-sync/ named by its content hash, and runs it. Nothing to build or
//   commit, no install script, and the CLI can never run stale code: a fresh clone works after
//   `npm ci`.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

if (!existsSync(join(here, "main.ts"))) {
  await import(pathToFileURL(join(here, "dist", "unified-sync.mjs")).href);
} else {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    process.stderr.write("unified-sync: esbuild is missing: run `npm ci` in the checkout (it is a devDependency)\n");
    process.exit(1);
  }
  const { bundleCli } = await import(pathToFileURL(join(root, "scripts", "bundle-cli.mjs")).href);
  const { code } = await bundleCli(esbuild);
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  // Under node_modules, so that the bundle's imports of commander, zod, ... resolve from there.
  const cache = join(root, "node_modules", ".cache", "unified-sync");
  const file = join(cache, `cli-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(cache, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
    // Older bundles are left from earlier sources: keep the cache small (another run may still be
    // importing one: an import is complete once started, so removal is safe).
    for (const name of readdirSync(cache)) {
      if (name !== `cli-${hash}.mjs` && /^cli-[0-9a-f]{16}\.mjs$/.test(name)) rmSync(join(cache, name), { force: true });
    }
  }
  await import(pathToFileURL(file).href);
}
