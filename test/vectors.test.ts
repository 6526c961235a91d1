import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const OURS = join(__dirname, "vectors");
const SHARED = join(__dirname, "../../shared/vectors");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const EXPECTED_FILES = 98;
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("vendored vectors", () => {
  it("match the snp-measure input manifest", () => {
    const manifest = JSON.parse(readFileSync(join(OURS, "snp-measure/inputs/MANIFEST.json"), "utf8")) as Record<
      string,
      { sha256: string; size: number }
    >;
    for (const [name, { sha256, size }] of Object.entries(manifest)) {
      const p = join(OURS, "snp-measure/inputs", name);
      expect(statSync(p).size).toBe(size);
      expect(sha(p)).toBe(sha256);
    }
  });

  it("are byte-identical to ../shared/vectors (where that folder exists)", () => {
    const ours = files(OURS)
      .map((p) => relative(OURS, p))
      .filter((p) => p !== "README.md")
      .sort();
    // A clean clone without the shared folder still checks that the full set is present.
    if (!existsSync(SHARED)) {
      expect(ours.length).toBe(EXPECTED_FILES);
      return;
    }
    const theirs = files(SHARED)
      .map((p) => relative(SHARED, p))
      .sort();
    expect(ours).toEqual(theirs);
    expect(ours.length).toBe(EXPECTED_FILES);
    for (const p of theirs) expect(sha(join(OURS, p)), p).toBe(sha(join(SHARED, p)));
  });
});
