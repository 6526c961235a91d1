/** `attestctl api-key new`: a key the gateway accepts on stdout, only its record on stderr; usage errors exit 2. */
import { describe, expect, it } from "vitest";
import { apiKeyRecord, ApiKeyStore, isApiKey } from "../../runtime/gateway/api-keys.js";
import { runCli } from "../helpers/cli.js";

describe("attestctl api-key", () => {
  it("prints a new API key on stdout and the record the gateway stores on stderr", async () => {
    const r = await runCli(["api-key", "new", "--client", "search"]);
    expect(r.code).toBe(0);
    const key = r.stdout.trimEnd();
    expect([r.stdout.endsWith("\n"), r.stdout.split("\n").length, isApiKey(key)]).toEqual([true, 2, true]);
    const record = JSON.parse(r.stderr) as unknown;
    expect(record).toEqual(apiKeyRecord(key, "search"));
    expect(r.stderr).not.toContain(key.slice(17));
    expect(new ApiKeyStore([apiKeyRecord(key, "search")]).authenticate(key)).toBe("search");
    const other = await runCli(["api-key", "new"]);
    expect(other.stdout).not.toBe(r.stdout);
    expect((JSON.parse(other.stderr) as { client: string }).client).toBe("client");
  });

  it.each([
    [["api-key"], "attestctl api-key: expected the subcommand new\n"],
    [["api-key", "old"], "attestctl api-key: expected the subcommand new\n"],
    [["api-key", "new", "--length", "9"], "attestctl api-key: Unknown option '--length'"],
  ])("exits 2 on %j", async (argv, first) => {
    const r = await runCli(argv);
    expect([r.code, r.stdout, r.stderr.startsWith(first)]).toEqual([2, "", true]);
  });
});
