import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");

/** STYLE.md rule 13: review above 400 lines, split by sub-concern. */
const MAX_LINES = 400;

/** Where the TypeScript of the house lives (the limit applies to every .ts file below these). */
const SOURCE_DIRS = [
  "core",
  "measurements",
  "runtime",
  "components",
  "stacks",
  "bin",
  "guardrails",
  "images",
  "scripts",
  "bench",
  "test",
] as const;

/**
 * Generated files allowed above the limit, each with the reason. Only generated files belong here:
 * their header must say so (STYLE.md rule 13), which the test below checks.
 */
const GENERATED_ALLOWLIST: readonly string[] = [];

/** Lines of a file as editors count them (a final newline does not start another line). */
function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Files below `dir` (relative to ROOT), skipping installed and built folders. */
function walk(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name === "dist") return [];
    const rel = `${dir}/${e.name}`;
    return e.isDirectory() ? walk(rel) : [rel];
  });
}

/** The tracked .ts files under SOURCE_DIRS (every such file when this is not a git checkout). */
function sourceFiles(): string[] {
  const r = spawnSync("git", ["ls-files", "-z", "--", ...SOURCE_DIRS], { cwd: ROOT, encoding: "utf8" });
  const files = r.status === 0 ? r.stdout.split("\0").filter((f) => f !== "") : SOURCE_DIRS.flatMap((d) => walk(d));
  // A tracked file deleted in the working tree (mid-refactor) has no lines to count.
  return files.filter((f) => /\.[cm]?ts$/.test(f) && existsSync(join(ROOT, f))).sort();
}

describe("repository hygiene", () => {
  // Worktrees symlink node_modules to the main checkout's install. A tracked `node_modules` entry
  // (e.g. that symlink, committed by `git add -A`) replaces the installed directory on every
  // checkout of main, breaking every worktree at once.
  it("tracks nothing under node_modules", () => {
    const r = spawnSync("git", ["ls-files", "--", "node_modules"], { cwd: ROOT, encoding: "utf8" });
    const insideGit = r.status === 0;
    expect(insideGit ? r.stdout : "").toBe("");
  });

  it(`keeps every .ts file under ${SOURCE_DIRS.join(", ")} at ${MAX_LINES} lines or fewer`, () => {
    const files = sourceFiles();
    // The walk found the house's sources (an empty list would pass vacuously).
    expect(files).toContain("test/repo-hygiene.test.ts");
    expect(files.length).toBeGreaterThan(300);
    const over = files
      .filter((f) => !GENERATED_ALLOWLIST.includes(f))
      .map((f) => ({ file: f, lines: lineCount(readFileSync(join(ROOT, f), "utf8")) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines (split it by sub-concern, STYLE.md rule 13)`);
    expect(over).toEqual([]);
  });

  it("allowlists only existing files that say they are generated", () => {
    const files = new Set(sourceFiles());
    const bad = GENERATED_ALLOWLIST.filter(
      (f) =>
        !files.has(f) || !/generated/i.test(readFileSync(join(ROOT, f), "utf8").split("\n").slice(0, 5).join("\n")),
    );
    expect(bad).toEqual([]);
  });

  it.each([
    ["", 0],
    ["a", 1],
    ["a\n", 1],
    ["a\nb", 2],
    ["a\nb\n", 2],
    ["\n\n", 2],
  ])("lineCount(%j) = %i", (text, lines) => {
    expect(lineCount(text)).toBe(lines);
  });

  it("the walk (used outside git) finds the sources and skips node_modules and dist", () => {
    const found = walk("runtime");
    expect(found).toContain("runtime/keybroker/index.ts");
    expect(found.filter((f) => f.split("/").some((part) => part === "node_modules" || part === "dist"))).toEqual([]);
  });
});
