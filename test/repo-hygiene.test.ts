import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");

describe("repository hygiene", () => {
  // Worktrees symlink node_modules to the main checkout's install. A tracked `node_modules` entry
  // (e.g. that symlink, committed by `git add -A`) replaces the installed directory on every
  // checkout of main, breaking every worktree at once.
  it("tracks nothing under node_modules", () => {
    const r = spawnSync("git", ["ls-files", "--", "node_modules"], { cwd: ROOT, encoding: "utf8" });
    const insideGit = r.status === 0;
    expect(insideGit ? r.stdout : "").toBe("");
  });
});
