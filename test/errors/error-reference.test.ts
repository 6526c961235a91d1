/**
 * Codes are public: every module declares them the same way (a `const` tuple, its union, a meaning per code,
 * a status per code where it answers over HTTP), every error class extends `CodedError`, and the committed
 * `docs/errors.md` is what `npx tsx scripts/error-reference.ts` generates from them.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { CodedError } from "../../core/errors.js";
import { ERROR_MODULES, errorReference } from "../../scripts/error-catalogue.js";

const ROOT = join(__dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const LIBRARY = ["components", "core", "guardrails", "images", "measurements", "runtime", "stacks"].flatMap(
  sourceFiles,
);

describe("docs/errors.md", () => {
  it("is current (npx tsx scripts/error-reference.ts)", () => {
    expect(readFileSync(join(ROOT, "docs/errors.md"), "utf8")).toBe(errorReference());
  });

  it.each(ERROR_MODULES.map((m) => [m.module, m] as const))("lists every code of %s once, with its status", (_, m) => {
    const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
    const section = doc.split(`\n## ${m.module}\n`)[1]?.split("\n## ")[0] ?? "";
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (?:(\d{3}) \| )?/gm)];
    expect(rows.map((r) => r[1])).toEqual([...m.codes]);
    if (m.status) expect(Object.fromEntries(rows.map((r) => [r[1], Number(r[2])]))).toEqual(m.status);
  });
});

describe("every module's codes", () => {
  it.each(ERROR_MODULES.map((m) => [m.module, m] as const))(
    "%s: unique codes, one meaning and (over HTTP) one status per code, classes extend CodedError",
    (_, m) => {
      expect(new Set(m.codes).size).toBe(m.codes.length);
      expect(Object.keys(m.meanings)).toEqual([...m.codes]);
      for (const code of m.codes) expect(m.meanings[code]).toMatch(/^\S.*\S$/);
      if (m.status) expect(Object.keys(m.status)).toEqual([...m.codes]);
      if (m.status) expect(m.status["INTERNAL"]).toBe(500);
      if (m.extra) expect(Object.keys(m.extra.values).sort()).toEqual([...m.codes].sort());
      for (const c of m.classes) expect(c.prototype).toBeInstanceOf(CodedError);
    },
  );

  it("covers every errors.ts of the library (core's excepted) and declares each the same way", () => {
    const files = LIBRARY.filter((f) => f.endsWith("/errors.ts") && !f.startsWith("core/")).sort();
    expect(files).toEqual(ERROR_MODULES.map((m) => `${m.module}/errors.ts`).sort());
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const tuple = /^export const ([A-Z_]+_ERROR_CODES) = \[/m.exec(text)?.[1];
      expect([file, tuple !== undefined]).toEqual([file, true]);
      expect([file, text]).toEqual([
        file,
        expect.stringMatching(new RegExp(`^export type [A-Za-z]+ErrorCode = \\(typeof ${tuple}\\)\\[number\\];$`, "m")),
      ]);
      expect([file, text]).toEqual([file, expect.stringMatching(/^export const [A-Z_]+_ERROR_MEANINGS: /m)]);
    }
  });

  it("no library class extends Error directly, and no module translates zod issues by hand", () => {
    const offenders = LIBRARY.filter((f) => f !== "core/errors.ts").flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return [
        ...(/\bextends Error\b/.test(text) ? [`${f}: extends Error`] : []),
        ...(/\.issues\.map\(|for \(const issue of [a-z.]*issues\)/.test(text)
          ? [`${f}: hand-made zod translation`]
          : []),
      ];
    });
    expect(offenders.map((o) => relative(ROOT, join(ROOT, o)))).toEqual([]);
  });
});
