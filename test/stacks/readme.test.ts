import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configReference } from "../../stacks/config-reference.js";

describe("README", () => {
  const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");

  it("carries the current config reference", () => {
    const section = readme.split("<!-- config-reference:start -->\n")[1]?.split("<!-- config-reference:end -->")[0];
    expect(section).toBe(configReference());
  });

  it("shows the two quick-start commands", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm test");
  });
});
