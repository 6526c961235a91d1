import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "../..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const section = readme.split("## Golden manifests and drift (`attestctl golden`)")[1]?.split("\n## ")[0] ?? "";

describe("README: drift classes", () => {
  it("lists every drift class with an action", () => {
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| .+ \| (release|deny)[^|]* \|$/gm)].map((m) => m[1]);
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
