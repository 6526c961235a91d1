import { describe, expect, it } from "vitest";
import { COMMANDS, helpText } from "../../bin/cli.js";
import { runCli, spawnCli } from "../helpers/cli.js";

describe("attestctl dispatch", () => {
  it("lists every subcommand in --help and exits 0", () => {
    const r = spawnCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(helpText());
    expect(Object.keys(COMMANDS)).toEqual([
      "measure",
      "verify",
      "golden",
      "render",
      "sandbox",
      "proxy",
      "image",
      "api-key",
    ]);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
  });

  it("prints usage on stderr with exit 2 when no command is given", async () => {
    const r = await runCli([]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: helpText() });
  });

  it("rejects an unknown command with exit 2", async () => {
    const r = await runCli(["mesure"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('attestctl: unknown command "mesure"');
  });
});
