// The layering rule (docs/structure.md#the-rule): a folder imports only folders below it, type-only
// imports too, and no file imports itself back through others. Read from the import specifiers
// of every source file, so a misplaced file fails here, naming the import that breaks the rule.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../scripts/dev-server.mjs";

/** The tree's top-level folders, lowest first: each may import only those before it (and itself). */
const TOP = ["src", "cli", "scripts", "measure"];

/** The floors of src/, lowest first: a floor imports only floors below it (and itself). */
const SRC_FLOORS: string[][] = [
  ["base"],
  ["schemas"],
  ["model"],
  ["env.ts"],
  ["vectors"],
  ["db"],
  ["auth"],
  ["sync"],
  ["store"],
  ["http"],
  ["jobs"],
  ["local"],
  ["client"],
  ["index.ts", "dev-entry.ts"],
];

const SOURCE = /\.(ts|mts|mjs|js)$/;
const CANDIDATES = ["", ".ts", ".mts", ".mjs", ".js", "/index.ts"];

function sourceFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Relative specifiers of every static import, re-export and dynamic import() with a literal. */
function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [
    ...code.matchAll(/\b(?:import|export)\s[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g),
    ...code.matchAll(/\bimport\s*["'](\.{1,2}\/[^"']+)["']/g),
    ...code.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const suffix of CANDIDATES) {
    const path = base + suffix;
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  // TypeScript's NodeNext style: "./x.js" naming "./x.ts".
  const ts = base.replace(/\.m?js$/, (ext) => (ext === ".mjs" ? ".mts" : ".ts"));
  return existsSync(ts) ? ts : null;
}

const files = TOP.flatMap((dir) => sourceFiles(join(root, dir)));
const edges = new Map<string, string[]>();
for (const file of files) {
  const targets: string[] = [];
  for (const spec of specifiers(readFileSync(file, "utf8"))) {
    const target = resolveImport(file, spec);
    if (target && !relative(root, target).startsWith("..")) targets.push(target);
  }
  edges.set(file, targets);
}

const rel = (path: string) => relative(root, path);
const topOf = (path: string) => TOP.indexOf(rel(path).split("/")[0]!);
function floorOf(path: string): number {
  const inSrc = relative(join(root, "src"), path);
  const first = inSrc.split("/")[0]!;
  return SRC_FLOORS.findIndex((floor) => floor.includes(first));
}

describe("the layering rule", () => {
  it("reads the tree (the rule is checked on real files)", () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...edges.values()].flat().length).toBeGreaterThan(300);
  });

  it("places every file of src/ on a floor", () => {
    const unplaced = files.filter((f) => rel(f).startsWith("src/") && floorOf(f) < 0).map(rel);
    expect(unplaced).toEqual([]);
  });

  it("has no import from a lower top-level folder to a higher one", () => {
    const upward: string[] = [];
    for (const [file, targets] of edges) {
      for (const target of targets) {
        if (topOf(target) < 0) upward.push(`${rel(file)} -> ${rel(target)} (outside the layered folders)`);
        else if (topOf(target) > topOf(file)) upward.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import in src/ from a lower floor to a higher one", () => {
    const upward: string[] = [];
    for (const [file, targets] of edges) {
      if (!rel(file).startsWith("src/")) continue;
      for (const target of targets) {
        if (floorOf(target) > floorOf(file)) upward.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import circle anywhere in the tree", () => {
    // Tarjan's strongly connected components, iteratively (no recursion bound to worry about).
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const circles: string[][] = [];
    let next = 0;
    for (const start of edges.keys()) {
      if (index.has(start)) continue;
      const work: [string, number][] = [[start, 0]];
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const [node, i] = frame;
        if (i === 0 && !index.has(node)) {
          index.set(node, next);
          low.set(node, next++);
          stack.push(node);
          onStack.add(node);
        }
        const targets = edges.get(node) ?? [];
        if (i < targets.length) {
          frame[1] = i + 1;
          const target = targets[i]!;
          if (!index.has(target)) work.push([target, 0]);
          else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(node)!));
        if (low.get(node) === index.get(node)) {
          const component: string[] = [];
          let member: string;
          do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(rel(member));
          } while (member !== node);
          if (component.length > 1) circles.push(component.sort());
        }
      }
    }
    expect(circles).toEqual([]);
  });
});
