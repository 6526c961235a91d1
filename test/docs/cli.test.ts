import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../bin/cli.js";
import { CLI_TOPICS, cliReferencePage } from "../../scripts/docs/cli-page.js";
// Also registers tsx's require hook, which bin/cli.ts's lazy command loading needs under vitest.
import { runCli } from "../helpers/cli.js";

const page = readFileSync(join(__dirname, "../../docs/cli.md"), "utf8");

describe("docs/cli.md", () => {
  it("is current: exactly what the commands' --help prints (regenerate with npx tsx scripts/cli-reference.ts)", async () => {
    expect(page).toBe(await cliReferencePage());
  });

  it("has one section per command of bin/cli.ts COMMANDS, in help order, each with its prose page", () => {
    const sections = [...page.matchAll(/^## `attestctl ?([a-z-]*)`$/gm)].map((m) => m[1]);
    expect(sections).toEqual(["", ...Object.keys(COMMANDS)]);
    expect(Object.keys(CLI_TOPICS)).toEqual(Object.keys(COMMANDS));
  });

  it.each(Object.keys(COMMANDS))("attestctl %s --help exits 0 with its usage line on stdout", async (name) => {
    const { code, stdout, stderr } = await runCli([name, "--help"]);
    expect([code, stderr, stdout.split(" ").slice(0, 2)]).toEqual([0, "", ["usage:", "attestctl"]]);
    expect(stdout.startsWith(`usage: attestctl ${name}`)).toBe(true);
  });

  it("shows no path of this machine (the sandbox's default directory prints as ./.sandbox)", () => {
    expect(page).toContain("sandbox state directory (default ./.sandbox, or $ATTESTCTL_SANDBOX_DIR)");
    expect(page).not.toContain(join(__dirname, "../.."));
  });
});
