// Every relative link in README.md and docs/ must lead to a file inside the repository (and, with
// a #fragment, to a heading of that file): a user's clone has nothing else.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../scripts/dev-server.mjs";

const documents = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchors: lower case, punctuation dropped except '-' and '_', spaces to '-'. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

function linksOf(file: string): string[] {
  // Links outside code blocks and inline code: [text](target) and <a href="target">.
  const text = readFileSync(join(root, file), "utf8")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
}

describe("the repository stands on its own", () => {
  it("every relative link in README.md and docs/ resolves to a file (and heading) inside the repository", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of documents) {
      for (const link of linksOf(doc)) {
        if (/^[a-z]+:/i.test(link)) continue; // http(s), mailto: not a file of the clone
        checked++;
        const [path, fragment] = link.split("#") as [string, string | undefined];
        const target = path === "" ? join(root, doc) : resolve(dirname(join(root, doc)), decodeURIComponent(path));
        const inside = !relative(root, target).startsWith("..");
        if (!inside || !existsSync(target)) {
          broken.push(`${doc}: ${link} (${inside ? "missing" : "outside the repository"})`);
          continue;
        }
        if (fragment && target.endsWith(".md") && statSync(target).isFile() && !anchorsOf(target).has(fragment)) {
          broken.push(`${doc}: ${link} (no heading #${fragment})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("no tracked file names the team's shared folder or its platform notes", () => {
    // git grep exits 1 when nothing matches.
    const grep = spawnSync("git", ["grep", "-nE", String.raw`\.\./shared|PLATFORM\.md|PEERS\.md`, "--", ".", ":!test-node/links.test.ts"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(grep.stdout).toBe("");
    expect(grep.status).toBe(1);
  });
});
