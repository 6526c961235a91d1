import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(__dirname, "../..");

describe(".github/workflows/preview.yml", () => {
  const wf = parse(readFileSync(join(ROOT, ".github/workflows/preview.yml"), "utf8"));
  const stacks = readdirSync(join(ROOT, "stacks"))
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.split(".")[1])
    .sort();

  it("previews every stack with --diff, the policy pack and a PR comment", () => {
    const job = wf.jobs["pulumi-preview"];
    expect([...job.strategy.matrix.stack].sort()).toEqual(stacks);
    const step = job.steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
    expect(step.with).toMatchObject({
      command: "preview",
      diff: true,
      "comment-on-pr": true,
      policyPacks: "guardrails",
    });
  });

  it("posts the golden-measurement diff of every stack", () => {
    const job = wf.jobs["golden-diff"];
    expect([...job.strategy.matrix.stack].sort()).toEqual(stacks);
    const script = job.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    expect(script).toContain('./bin/attestctl golden compute --config "stacks/Pulumi.${{ matrix.stack }}.yaml"');
    expect(script).toContain("./bin/attestctl golden diff golden/base.json golden/head.json --format markdown");
  });

  it("asks only for the permissions it uses", () => {
    expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });
});
