/**
 * The house's shape, checked on the import graph of the production code: no import cycle between
 * files, and every module of the layer table (eslint.boundaries.mjs) has a face. ESLint enforces the
 * faces and the layers import by import; this test catches what a per-file rule cannot (cycles).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { LAYERS } from "../eslint.boundaries.mjs";

const ROOT = join(__dirname, "..");
const SOURCE_DIRS = ["core", "measurements", "runtime", "components", "stacks", "guardrails", "bin"];

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** file -> files it imports (static imports, re-exports, import() and require() of relative paths). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d)));
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    const targets = new Set<string>();
    for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\(\s*|\brequire\(\s*)"(\.{1,2}\/[^"]+)"/g)) {
      const spec = resolve(dirname(file), m[1]!);
      const candidates = [spec.replace(/\.js$/, ".ts"), `${spec}.ts`, join(spec, "index.ts")];
      const hit = candidates.find((c) => existsSync(c) && c.endsWith(".ts"));
      if (hit) targets.add(relative(ROOT, hit));
    }
    graph.set(relative(ROOT, file), [...targets]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe("architecture", () => {
  const graph = importGraph();

  it("reads the whole production tree", () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get("runtime/keybroker/broker.ts")).toContain("runtime/keybroker/config.ts");
  });

  it("has no import cycle between files (type-only imports included)", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const g = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(cycles(g)).toEqual([["a.ts", "b.ts", "c.ts"]]);
  });

  it.each((LAYERS as readonly (readonly string[])[]).flat().filter((m) => m !== "bin" && existsSync(join(ROOT, m))))(
    "%s has a face (index.ts)",
    (m) => {
      expect(existsSync(join(ROOT, m, "index.ts"))).toBe(true);
    },
  );
});
