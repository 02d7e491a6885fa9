// schema.sql as statements, split as `wrangler d1 execute` splits a file: at every line that ends
// with ";", comment lines dropped. The measurements apply it to the fresh D1 of each Miniflare.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export function schemaStatements() {
  return readFileSync(join(root, "schema.sql"), "utf8")
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean);
}
