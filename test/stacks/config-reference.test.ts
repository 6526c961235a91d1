import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configReference, configurationPage } from "../../stacks/config-reference.js";

describe("docs/configuration.md", () => {
  const page = readFileSync(join(__dirname, "../../docs/configuration.md"), "utf8");

  it("is the current config reference (regenerate with npx tsx scripts/config-reference.ts)", () => {
    expect(page).toBe(configurationPage());
  });

  it("holds the table generated from the schema, every key once", () => {
    expect(page.endsWith(configReference())).toBe(true);
    const keys = [...page.matchAll(/^\| `(confidential-inference:[^`]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.slice(0, 2)).toEqual(["confidential-inference:environment", "confidential-inference:release"]);
  });
});
