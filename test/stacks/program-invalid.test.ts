import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../stacks/stack-file.js";
import { installMocks, recorded } from "../helpers/pulumi-mocks.js";

describe("stacks/main.ts with an invalid config", () => {
  it("fails with every bad key before any resource is registered", async () => {
    const { raw, secretKeys } = readStackFile(join(__dirname, "../../stacks/Pulumi.staging.yaml"));
    const hosts = JSON.parse(raw["confidential-inference:hosts"] ?? "[]");
    hosts[1].address = "300.1.1.1";
    raw["confidential-inference:hosts"] = JSON.stringify(hosts);
    raw["confidential-inference:release"] = "bad release";
    await installMocks(raw, secretKeys, "staging");
    await expect(import("../../stacks/main.js")).rejects.toThrow(
      "invalid stack configuration (2 problems):\n" +
        "confidential-inference:hosts[1].address: not an IP address or hostname\n" +
        "confidential-inference:release: must be a release id (letters, digits, '.', '_', '-')",
    );
    expect(recorded).toEqual([]);
  });
});
