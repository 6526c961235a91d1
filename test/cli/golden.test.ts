import { describe, expect, it } from "vitest";
import { GOLDEN_USAGE } from "../../bin/commands/golden.js";
import { compareManifests, renderComparisonMarkdown } from "../../measurements/drift/index.js";
import { formatManifest } from "../../measurements/manifest/index.js";
import { fakeCalculator, goldenWorkspace } from "../helpers/golden-cli.js";
import { withEdit } from "../helpers/golden.js";

const { file, golden, before, after } = goldenWorkspace();

describe("attestctl golden (dispatch)", () => {
  it("prints usage with exit 2 without a subcommand, and on stdout with --help", async () => {
    expect(await golden([])).toEqual({ code: 2, stdout: "", stderr: GOLDEN_USAGE });
    expect(await golden(["--help"])).toEqual({ code: 0, stdout: GOLDEN_USAGE, stderr: "" });
  });

  it.each([
    [["frobnicate"], 'attestctl golden: unknown subcommand "frobnicate"'],
    [["diff", "before.json"], "attestctl golden diff: expected 2 file arguments, got 1"],
    [
      ["diff", "--format", "html", "before.json", "after.json"],
      "attestctl golden diff: --format must be markdown or json, got html",
    ],
    [
      ["diff", "--colour", "before.json", "after.json"],
      "attestctl golden diff: Unknown option '--colour'. <node's hint>",
    ],
    [["sign", "before.json"], "attestctl golden sign: --key is required"],
    [
      ["compute", "--config", "golden.yaml", "--status", "live"],
      "attestctl golden compute: --status must be one of active, pending, retired, got live",
    ],
    [
      ["compute", "--config", "golden.yaml", "--created-at", "yesterday"],
      "attestctl golden compute: --created-at must be an ISO 8601 UTC time (2026-11-02T10:00:00Z), got yesterday",
    ],
    [["check", "--config", "golden.yaml"], "attestctl golden check: --manifest is required"],
  ])("refuses %j with exit 2", async (argv, first) => {
    const r = await golden(argv, { calculator: () => fakeCalculator });
    expect(r.code).toBe(2);
    // node's parseArgs adds a version-dependent hint after the first sentence.
    expect(r.stderr.split("\n")[0]?.replace(/(Unknown option '[^']+'\.) .*/, "$1 <node's hint>")).toBe(first);
  });
});

describe("golden diff", () => {
  it("prints the Markdown comparison, exit 0 without errors", async () => {
    const r = await golden(["diff", "before.json", "after.json"]);
    expect(r).toEqual({
      code: 0,
      stdout: renderComparisonMarkdown(before, after, compareManifests(before, after)),
      stderr: "",
    });
  });

  it("prints the JSON comparison", async () => {
    const r = await golden(["diff", "--format", "json", "before.json", "after.json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(compareManifests(before, after))));
  });

  it("exits 1 when the comparison has errors, still printing the diff", async () => {
    file(
      "unexplained.json",
      formatManifest(
        withEdit((m) => {
          m.release = "r2";
          m.launchShapes["runtime-small"].measurement = "4".repeat(96);
        }),
      ),
    );
    const r = await golden(["diff", "before.json", "unexplained.json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "| error | `MEASUREMENT_UNEXPLAINED` | `launchShapes.runtime-small.measurement` | the measurement changed but none of its measured inputs did |",
    );
  });

  it.each([
    [["diff", "before.json", "missing.json"], "attestctl golden diff: cannot read missing.json: ENOENT"],
    [
      ["diff", "before.json", file("bad.json", '{"schemaVersion":1}')],
      "attestctl golden diff: MANIFEST_INVALID: invalid golden manifest (9 problems):",
    ],
    [
      ["diff", "before.json", file("notjson.json", "nope")],
      "attestctl golden diff: MANIFEST_MALFORMED: reading golden manifest: not JSON (Unexpected token 'o', \"nope\" is not valid JSON)",
    ],
  ])("fails with exit 1 on %j", async (argv, first) => {
    const r = await golden(argv);
    expect(r.code).toBe(1);
    expect(
      r.stderr
        .split("\n")[0]
        ?.replace(/not JSON \(.*\)$/, "not JSON (Unexpected token 'o', \"nope\" is not valid JSON)"),
    ).toBe(first);
  });
});
