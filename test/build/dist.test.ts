/**
 * The production build (scripts/build.mjs, docs/build.md): when dist/ counts as stale (bin/dist.cjs,
 * on a scratch tree), and what runs compiled: every process entry (CLI, services, render worker,
 * Pulumi program, policy pack) loads bundles from dist/, no bundle or entry file needs tsx, and
 * tsx is a devDependency only.
 */
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SERVICE_ENTRY } from "../../runtime/sandbox/processes.js";

const ROOT = join(__dirname, "../..");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/dist.cjs is plain CommonJS
const { staleReason } = require("../../bin/dist.cjs") as {
  staleReason(bundles?: readonly string[], root?: string): string | undefined;
};

const work = mkdtempSync(join(tmpdir(), "ci-dist-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A scratch project: sources a.ts, b.ts, c.ts and a build-info that says bundle x.js came from a and b, y.js from c. */
function scratch(name: string, startedAt: number): string {
  const root = join(work, name);
  mkdirSync(join(root, "dist"), { recursive: true });
  for (const f of ["a.ts", "b.ts", "c.ts", "package.json", "tsconfig.json"]) {
    writeFileSync(join(root, f), "");
    utimesSync(join(root, f), new Date(startedAt - 5000), new Date(startedAt - 5000));
  }
  writeFileSync(
    join(root, "dist", "build-info.json"),
    JSON.stringify({
      startedAt,
      shared: ["package.json"],
      bundles: { "x.js": { inputs: ["a.ts", "b.ts"], packages: [] }, "y.js": { inputs: ["c.ts"], packages: [] } },
    }),
  );
  return root;
}

describe("bin/dist.cjs: is dist/ current?", () => {
  const t = Date.now() - 60_000;

  it("missing build-info: missing", () => {
    mkdirSync(join(work, "empty"));
    expect(staleReason(undefined, join(work, "empty"))).toBe("missing");
  });

  it("every input older than the build: current", () => {
    expect(staleReason(undefined, scratch("fresh", t))).toBeUndefined();
  });

  it("an input changed after the build started: stale, naming it; only for the bundles asked about", () => {
    const root = scratch("edited", t);
    utimesSync(join(root, "c.ts"), new Date(t + 1000), new Date(t + 1000));
    expect([staleReason(undefined, root), staleReason(["x.js"], root), staleReason(["y.js"], root)]).toEqual([
      "older than c.ts",
      undefined,
      "older than c.ts",
    ]);
  });

  it("a shared file (package.json) changed, an input deleted, an unknown bundle: stale", () => {
    const shared = scratch("shared", t);
    utimesSync(join(shared, "package.json"), new Date(t + 1000), new Date(t + 1000));
    const deleted = scratch("deleted", t);
    rmSync(join(deleted, "b.ts"));
    expect([
      staleReason(["y.js"], shared),
      staleReason(undefined, deleted),
      staleReason(["z.js"], scratch("z", t)),
    ]).toEqual(["older than package.json", "older than b.ts", "missing z.js"]);
  });

  it("an installed package (no tsconfig.json: no sources shipped) is never rebuilt", () => {
    const root = scratch("installed", t);
    rmSync(join(root, "tsconfig.json"));
    rmSync(join(root, "a.ts"));
    expect(staleReason(undefined, root)).toBeUndefined();
  });
});

describe("what runs compiled", () => {
  const info = JSON.parse(readFileSync(join(ROOT, "dist/build-info.json"), "utf8")) as {
    bundles: Record<string, { inputs: string[]; packages: string[] }>;
  };

  it("dist/ holds one bundle per entry point, and is current", () => {
    expect(Object.keys(info.bundles).sort()).toEqual([
      "bin/cli.js",
      "bin/commands/api-key.js",
      "bin/commands/golden.js",
      "bin/commands/image.js",
      "bin/commands/measure.js",
      "bin/commands/proxy.js",
      "bin/commands/render.js",
      "bin/commands/sandbox.js",
      "bin/commands/verify.js",
      "guardrails/index.js",
      "lib/client.js",
      "lib/components.js",
      "lib/measurements-manifest.js",
      "lib/measurements-snp.js",
      "lib/verifier.js",
      "runtime/gateway/main.js",
      "runtime/inference/main.js",
      "runtime/keybroker/main.js",
      "stacks/main.js",
      "stacks/render/worker.js",
    ]);
    expect(staleReason()).toBeUndefined();
  });

  it("the CLI bundle holds the dispatcher only: each command is its own bundle, loaded on use", () => {
    expect(info.bundles["bin/cli.js"]).toEqual({ inputs: ["bin/cli.ts", "bin/io.ts"], packages: [] });
    expect(readFileSync(join(ROOT, "dist/bin/cli.js"), "utf8")).toContain('require("./commands/measure.js")');
  });

  it("the services the sandbox starts are compiled bundles", () => {
    expect(SERVICE_ENTRY).toEqual({
      keybroker: "dist/runtime/keybroker/main.js",
      runtime: "dist/runtime/inference/main.js",
      gateway: "dist/runtime/gateway/main.js",
    });
    for (const entry of Object.values(SERVICE_ENTRY)) expect(statSync(join(ROOT, entry)).isFile()).toBe(true);
  });

  it("Pulumi runs the compiled program and policy pack with plain node (no tsx, no TypeScript)", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    const pack = parse(readFileSync(join(ROOT, "guardrails/PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
    expect([project.main, project.runtime]).toEqual([
      "stacks/entry.cjs",
      { name: "nodejs", options: { typescript: false } },
    ]);
    expect([pack.main, pack.runtime]).toEqual(["entry.cjs", { name: "nodejs", options: { typescript: false } }]);
    expect(readFileSync(join(ROOT, "stacks/entry.cjs"), "utf8")).toContain('require("../dist/stacks/main.js")');
    expect(readFileSync(join(ROOT, "guardrails/entry.cjs"), "utf8")).toContain(
      'require("../dist/guardrails/index.js")',
    );
  });

  it("no bundle and no entry file loads tsx; tsx is a devDependency only", () => {
    const bundles = Object.keys(info.bundles).map((b) => join(ROOT, "dist", b));
    const entries = ["bin/attestctl", "bin/dist.cjs", "stacks/entry.cjs", "guardrails/entry.cjs"].map((f) =>
      join(ROOT, f),
    );
    const offenders = [...bundles, ...entries].filter((f) =>
      /require\(["']tsx|--(?:require|import)["', ]+tsx/.test(readFileSync(f, "utf8")),
    );
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect([pkg.dependencies.tsx, pkg.devDependencies.tsx, pkg.devDependencies.esbuild]).toEqual([
      undefined,
      "4.23.15",
      "0.28.2",
    ]);
  });

  it("bundles keep @pulumi/* and native addons external (one SDK instance with Pulumi's run harness)", () => {
    for (const [name, bundle] of Object.entries(info.bundles))
      if (!name.startsWith("runtime/inference/"))
        expect({
          name,
          packages: bundle.packages.filter((p) => /^@pulumi\/|^pkcs11js$|^onnxruntime-node$/.test(p)),
        }).toEqual({ name, packages: [] });
    expect(info.bundles["runtime/inference/main.js"]?.packages).toContain("onnxruntime-node");
  });

  it("`attestctl --help` runs from dist with nothing on stderr", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "bin/attestctl"), "--help"], { cwd: ROOT, encoding: "utf8" });
    expect([r.status, r.stdout.split("\n")[0], r.stderr]).toEqual([0, "usage: attestctl <command> [options]", ""]);
    expect(
      readdirSync(join(ROOT, "dist/bin/commands"))
        .filter((f) => f.endsWith(".js"))
        .sort(),
    ).toEqual([
      "api-key.js",
      "golden.js",
      "image.js",
      "measure.js",
      "proxy.js",
      "render.js",
      "sandbox.js",
      "verify.js",
    ]);
  });
});
