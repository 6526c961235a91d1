import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPONENT_ERROR_CODES, ComponentError } from "../../components/errors.js";

const ROOT = join(__dirname, "../..");

describe("component error codes: errors.ts, the exported array and the README agree", () => {
  it("lists the same codes in the same order", () => {
    const source = readFileSync(join(ROOT, "components/errors.ts"), "utf8");
    const array = source.split("_CODES = [")[1]?.split("] as const")[0] ?? "";
    expect([...array.matchAll(/^\s+"([A-Z_]+)",$/gm)].map((m) => m[1])).toEqual([...COMPONENT_ERROR_CODES]);
    const readme = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
    const table = readme.split("### Component error codes")[1]?.split("\n\n")[2] ?? "";
    expect([...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])).toEqual([...COMPONENT_ERROR_CODES]);
  });

  it("keeps the code and forwards the cause", () => {
    const cause = new Error("inner");
    const error = new ComponentError("HOST_BELOW_TCB_FLOOR", "host x: reported TCB below floor", { cause });
    expect(error).toMatchObject({
      name: "ComponentError",
      code: "HOST_BELOW_TCB_FLOOR",
      message: "host x: reported TCB below floor",
      cause,
    });
  });
});
