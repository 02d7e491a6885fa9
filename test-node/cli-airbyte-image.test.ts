// The Airbyte image's bundle step (airbyte.Dockerfile), run here as the Dockerfile writes it: no
// Docker daemon is needed to check that the CLI still bundles into one file that runs with no
// node_modules next to it, answering the destination's commands.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./cli-helpers";

const dir = mkdtempSync(join(tmpdir(), "airbyte-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The esbuild arguments of the Dockerfile's bundle RUN line, with the output moved to `outfile`. */
function bundleArgs(outfile: string): string[] {
  const dockerfile = readFileSync(join(root, "airbyte.Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const m = /^RUN \/tools\/bin\/esbuild (.*?) && node /m.exec(dockerfile);
  if (!m) throw new Error("airbyte.Dockerfile has no `RUN /tools/bin/esbuild ... && node` line");
  const args = [...m[1]!.matchAll(/--[\w:.-]+=(?:"[^"]*"|\S+)|\S+/g)].map((t) => t[0].replace(/^(--[\w:.-]+=)"(.*)"$/, "$1$2"));
  return args.map((a) => (a.startsWith("--outfile=") ? `--outfile=${outfile}` : a));
}

describe("airbyte.Dockerfile's bundle", () => {
  it("bundles the CLI into one file that runs spec and check with no node_modules", () => {
    const outfile = join(dir, "unified-sync.mjs");
    const build = spawnSync(join(root, "node_modules", ".bin", "esbuild"), bundleArgs(outfile), { cwd: root, encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);

    const spec = spawnSync(process.execPath, [outfile, "airbyte", "spec"], { cwd: dir, encoding: "utf8" });
    expect(spec.status, spec.stderr).toBe(0);
    expect(JSON.parse(spec.stdout)).toMatchObject({
      type: "SPEC",
      spec: { supported_destination_sync_modes: ["overwrite", "append", "append_dedup"] },
    });

    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ url: "http://127.0.0.1:9", api_key: "k", organization_id: "org_x", vector_store_id: "vs_x" }));
    const check = spawnSync(process.execPath, [outfile, "airbyte", "check", "--config", config], { cwd: dir, encoding: "utf8" });
    expect(check.status).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } });
  });
});
