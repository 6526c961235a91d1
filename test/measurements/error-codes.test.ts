import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "../..");
/** The drift-class table lives with the measurements docs, not with the error codes. */
const measurementsDoc = readFileSync(join(ROOT, "docs/measurements.md"), "utf8");

describe("docs/measurements.md: drift classes", () => {
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
