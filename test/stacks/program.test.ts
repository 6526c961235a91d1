import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../stacks/stack-file.js";
import { installMocks, resolve } from "../helpers/pulumi-mocks.js";

describe("stacks/index.ts under mocks", () => {
  it("loads the dev config and exports its identity", async () => {
    const { raw, secretKeys } = readStackFile(join(__dirname, "../../stacks/Pulumi.dev.yaml"));
    await installMocks(raw, secretKeys, "dev");
    const program = await import("../../stacks/index.js");
    expect(await resolve(program.environment)).toBe("dev");
    expect(await resolve(program.release)).toBe("2026.11.0-dev");
  });
});
