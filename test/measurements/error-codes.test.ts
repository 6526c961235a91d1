import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DRIFT_ERROR_CODES, DRIFT_ERROR_SEVERITY } from "../../measurements/drift/index.js";
import { MANIFEST_ERROR_CODES } from "../../measurements/manifest/index.js";

const ROOT = join(__dirname, "../..");
const readme = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
const section = readme.split("## Golden manifests and drift (`attestctl golden`)")[1]?.split("\n## ")[0] ?? "";
/** The drift-class table lives with the measurements docs, not with the error codes. */
const measurementsDoc = readFileSync(join(ROOT, "docs/measurements.md"), "utf8");

/** Codes in the README table that follows `marker`. */
function tableCodes(marker: string): string[] {
  const after = section.split(marker)[1] ?? "";
  const table = after.split("\n\n")[1] ?? "";
  return [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] as string);
}

/** Codes named in an errors.ts source file (the `as const` array). */
function sourceCodes(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const array = text.split("_CODES = [")[1]?.split("] as const")[0] ?? "";
  return [...array.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1] as string);
}

describe("error codes: errors.ts, the exported arrays and the README agree", () => {
  it("measurements/manifest", () => {
    expect(sourceCodes("measurements/manifest/errors.ts")).toEqual([...MANIFEST_ERROR_CODES]);
    expect(tableCodes("`measurements/manifest` (")).toEqual([...MANIFEST_ERROR_CODES]);
  });

  it("measurements/drift, with each code's severity", () => {
    expect(sourceCodes("measurements/drift/errors.ts")).toEqual([...DRIFT_ERROR_CODES]);
    expect(tableCodes("`measurements/drift` (")).toEqual([...DRIFT_ERROR_CODES]);
    const severities = [...section.matchAll(/^\| `([A-Z_]+)` \| (error|warning) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(severities)).toEqual(DRIFT_ERROR_SEVERITY);
  });

  it("lists every drift class with an action", () => {
    const rows = [...measurementsDoc.matchAll(/^\| `([a-z-]+)` \| .+ \| (release|deny)[^|]* \|$/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([
      "invalid-evidence",
      "ok",
      "pending-release",
      "platform-updated",
      "retired-release",
      "tcb-below-floor",
      "unknown-measurement",
    ]);
  });
});
