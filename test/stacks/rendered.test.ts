/**
 * `attestctl render`: every stack renders, the committed renderings under stacks/rendered/ are
 * current (regenerate with `npx tsx scripts/render-stacks.ts`), nothing secret leaks into them,
 * and the CLI's usage and failure paths have exact exit codes.
 */
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderStackFile } from "../../bin/commands/render.js";
import { renderedMarkdown } from "../../stacks/render/markdown.js";
import type { RenderedState } from "../../stacks/render/render.js";
import { runCli } from "../helpers/cli.js";

const STACKS = join(__dirname, "../../stacks");
const stacks = readdirSync(STACKS)
  .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
  .map((f) => f.split(".")[1] ?? "")
  .sort();
const rendered = new Map<string, RenderedState>();
const work = mkdtempSync(join(tmpdir(), "ci-render-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  await Promise.all(
    stacks.map(async (s) => rendered.set(s, await renderStackFile(s, join(STACKS, `Pulumi.${s}.yaml`)))),
  );
}, 120_000);

describe("stacks/rendered", () => {
  it("covers every stack", () => {
    expect(stacks).toEqual(["dev", "prod", "staging"]);
    expect(readdirSync(join(STACKS, "rendered")).sort()).toEqual(
      stacks.flatMap((s) => [`${s}.json`, `${s}.md`]).sort(),
    );
  });

  it.each(stacks)("%s is current (npx tsx scripts/render-stacks.ts)", (stack) => {
    const state = rendered.get(stack);
    expect(readFileSync(join(STACKS, "rendered", `${stack}.json`), "utf8")).toBe(`${JSON.stringify(state, null, 2)}\n`);
    expect(readFileSync(join(STACKS, "rendered", `${stack}.md`), "utf8")).toBe(
      renderedMarkdown(state as RenderedState),
    );
  });

  it.each(stacks)("%s masks every secret and leaks no stand-in", (stack) => {
    const text = JSON.stringify(rendered.get(stack));
    expect(text).not.toContain("<secret ");
    expect(text).not.toMatch(/PRIVATE KEY-----/);
    const byName = new Map(rendered.get(stack)?.resources.map((r) => [r.name, r]));
    expect((byName.get("keys-hsm-pin")?.inputs as { stringData: unknown }).stringData).toBe("[secret]");
    for (const r of rendered.get(stack)?.resources ?? [])
      if (r.type.startsWith("command:remote:"))
        expect((r.inputs as { connection: unknown }).connection).toBe("[secret]");
  });

  it("shows what only a deploy can know as [unknown]: the signature, host inventories, TLS keys", () => {
    const prod = rendered.get("prod") as RenderedState;
    expect(prod.outputs["goldenManifest"]).toBe("[unknown]");
    expect(prod.outputs["hostInventory"]).toBe("[unknown]");
    expect(prod.resourceCount).toBe(144); // a StatefulSet of 3 brokers with its store Secret and egress policy, no state claim
    expect(Object.keys(prod.outputs)).toEqual([
      "endpoints",
      "environment",
      "expectedMeasurements",
      "goldenManifest",
      "goldenMeasurements",
      "hostInventory",
      "platformInventory",
      "release",
      "verifierPolicy",
    ]);
  });
});

describe("attestctl render", () => {
  it("prints JSON by default and Markdown on request", async () => {
    const md = await runCli(["render", "--stack", "dev", "--format", "markdown"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toBe(renderedMarkdown(rendered.get("dev") as RenderedState));
  });

  it.each([
    [["render"], "attestctl render: --stack is required\n"],
    [
      ["render", "--stack", "dev", "--format", "yaml"],
      "attestctl render: --format must be json or markdown, got yaml\n",
    ],
    [["render", "--stak", "dev"], "attestctl render: Unknown option '--stak'"],
  ])("exits 2 on %j", async (argv, first) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(first)).toBe(true);
  });

  it("exits 2 for a stack without a config file", async () => {
    expect(await runCli(["render", "--stack", "qa"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "attestctl render: no stack config stacks/Pulumi.qa.yaml\n",
    });
  });

  it("exits 1 with every config problem when the program refuses the config", async () => {
    const bad = readFileSync(join(STACKS, "Pulumi.staging.yaml"), "utf8")
      .replace("address: 10.20.0.11", "address: 10.20.0.300")
      .replace("release: 2026.11.0-rc.2", "release: bad release");
    writeFileSync(join(work, "Pulumi.bad.yaml"), bad);
    expect(await runCli(["render", "--stack", "bad", "--config", join(work, "Pulumi.bad.yaml")])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "attestctl render: stack bad: invalid stack configuration (2 problems):\n" +
        "confidential-inference:hosts[0].address: not an IP address or hostname\n" +
        "confidential-inference:release: must be a release id (letters, digits, '.', '_', '-')\n",
    });
  });
});
