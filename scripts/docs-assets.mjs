#!/usr/bin/env node
// Copies Swagger UI's script and stylesheet from node_modules/swagger-ui-dist into assets/, the
// Workers Static Assets directory (wrangler.toml [assets]), so /docs loads nothing from outside.
// Run before `npm run dev` (dev.mjs imports this file), `npm test`, `npm run build` and
// `npm run deploy`. Importing it copies too; it is quick and copies only what changed.
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/** Served at /docs/swagger-ui-dist/<file>: where @hono/swagger-ui looks with baseUrl "/docs". */
export const DOCS_ASSETS_DIR = join(root, "assets", "docs", "swagger-ui-dist");
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

const source = dirname(createRequire(join(root, "package.json")).resolve("swagger-ui-dist/package.json"));
mkdirSync(DOCS_ASSETS_DIR, { recursive: true });
let copied = 0;
for (const file of FILES) {
  const from = join(source, file);
  const to = join(DOCS_ASSETS_DIR, file);
  let same = false;
  try {
    const a = statSync(from);
    const b = statSync(to);
    same = a.size === b.size && readFileSync(from).equals(readFileSync(to));
  } catch {
    /* not copied yet */
  }
  if (!same) {
    copyFileSync(from, to);
    copied += 1;
  }
}
const version = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
if (copied > 0) console.log(`docs assets: swagger-ui-dist ${version} copied to assets/docs/swagger-ui-dist (${copied} files)`);
