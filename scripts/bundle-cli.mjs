#!/usr/bin/env node
// The CLI as one ES module: cli/main.ts and what it imports of src/ (the server's zod schemas, the
// typed client) bundled by esbuild; npm packages stay imports, resolved from node_modules.
// - bundleCli(): the launcher (cli/unified-sync.mjs) calls it at every start in a checkout;
// - `node scripts/bundle-cli.mjs` (npm's prepack) writes PREBUILT, which the packed package ships
//   and runs without esbuild, and refuses a bundle importing a package that is not in
//   `dependencies` (npm install --omit=dev would leave it out);
// - `node scripts/bundle-cli.mjs --clean` (postpack) removes PREBUILT again, so a checkout keeps
//   running its sources.
import { builtinModules } from "node:module";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const PREBUILT = join(root, "cli", "dist", "unified-sync.mjs");

/** The bundle's text (ending with the call of main) and the packages it imports. */
export async function bundleCli(esbuild) {
  const result = await esbuild.build({
    entryPoints: [join(root, "cli", "main.ts")],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "error",
  });
  const packages = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const { path, external } of output.imports) {
      if (!external || path.startsWith("node:") || builtinModules.includes(path)) continue;
      packages.add(path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : path.split("/")[0]);
    }
  }
  return { code: `${result.outputFiles[0].text}\nawait main(process.argv);\n`, packages: [...packages].sort() };
}

async function writePrebuilt() {
  const { code, packages } = await bundleCli(await import("esbuild"));
  const { dependencies = {} } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const missing = packages.filter((name) => !(name in dependencies));
  if (missing.length > 0) {
    throw new Error(
      `the CLI imports ${missing.join(", ")}, not in package.json "dependencies": an install without devDependencies lacks it`,
    );
  }
  mkdirSync(dirname(PREBUILT), { recursive: true });
  writeFileSync(`${PREBUILT}.tmp`, code);
  renameSync(`${PREBUILT}.tmp`, PREBUILT);
  console.error(`bundled the CLI into ${PREBUILT.slice(root.length)} (${code.length} bytes; imports ${packages.join(", ")})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--clean")) rmSync(dirname(PREBUILT), { recursive: true, force: true });
  else await writePrebuilt();
}
