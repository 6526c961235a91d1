import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GOLDEN_USAGE, createGoldenCommand } from "../../bin/commands/golden.js";
import type { GoldenDeps } from "../../bin/commands/golden-args.js";
import { compareManifests, renderComparisonMarkdown } from "../../measurements/drift/index.js";
import type { LaunchDigestCalculator } from "../../measurements/manifest/build.js";
import { formatManifest, keyThumbprint, parseManifest } from "../../measurements/manifest/index.js";
import { spawnCli } from "../helpers/cli.js";
import { devManifest, withEdit } from "../helpers/golden.js";

const dir = mkdtempSync(join(tmpdir(), "golden-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  writeFileSync(join(dir, name), content);
  return name;
};

async function golden(argv: string[], deps: GoldenDeps = {}, env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await createGoldenCommand(deps).run(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env,
    cwd: dir,
  });
  return { code, stdout, stderr };
}

const before = devManifest();
const after = withEdit((m) => {
  m.release = "2026.11.1-dev";
  m.tcbFloors.Milan.snp = 25;
});
file("before.json", formatManifest(before));
file("after.json", formatManifest(after));

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

describe("golden sign / verify", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  file("signing.pem", privateKey.export({ format: "pem", type: "pkcs8" }) as string);
  file("signing.jwk", JSON.stringify(privateKey.export({ format: "jwk" })));
  file("public.pem", publicKey.export({ format: "pem", type: "spki" }) as string);
  file("public.jwk", JSON.stringify(publicKey.export({ format: "jwk" })));
  file(
    "other.pem",
    generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ format: "pem", type: "spki" }) as string,
  );
  file(
    "p256.pem",
    generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    }) as string,
  );

  it("signs with a PEM key (kid = thumbprint) and verifies with the public PEM", async () => {
    const kid = await keyThumbprint(publicKey);
    const signed = await golden(["sign", "--key", "signing.pem", "--out", "before.jws", "before.json"]);
    expect(signed).toEqual({
      code: 0,
      stdout: "",
      stderr: `signed: release 2026.11.0-dev (dev, active) with kid ${kid}\n`,
    });
    const verified = await golden(["verify", "--key", "public.pem", "before.jws"]);
    expect(verified).toEqual({
      code: 0,
      stdout: formatManifest(before),
      stderr: `verified: release 2026.11.0-dev (dev, active) signed by kid ${kid}\n`,
    });
  });

  it("signs with a JWK and an explicit kid to stdout; verifies with the public JWK and that kid", async () => {
    const signed = await golden(["sign", "--key", "signing.jwk", "--kid", "release-2026", "after.json"]);
    expect(signed.code).toBe(0);
    file("after.jws", signed.stdout);
    expect((await golden(["verify", "--key", "public.jwk", "--kid", "release-2026", "after.jws"])).code).toBe(0);
    const wrongKid = await golden(["verify", "--key", "public.jwk", "--kid", "release-2027", "after.jws"]);
    expect(wrongKid).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: kid "release-2026" is not the expected "release-2027"\n',
    });
  });

  it.each([
    [
      ["verify", "--key", "other.pem", "before.jws"],
      "attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      ["verify", "--key", "public.pem", "before.json"],
      "attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: not a compact JWS (three non-empty base64url parts)",
    ],
    [
      ["verify", "--key", "before.json", "before.jws"],
      "attestctl golden verify: cannot use before.json as a public key: <node's reason>",
    ],
    [
      ["sign", "--key", "p256.pem", "before.json"],
      "attestctl golden sign: ES384 needs an EC P-384 key, got ec (prime256v1)",
    ],
    [
      ["sign", "--key", "public.pem", "before.json"],
      "attestctl golden sign: cannot use public.pem as a private key: <node's reason>",
    ],
  ])("refuses %j with exit 1", async (argv, first) => {
    const r = await golden(argv);
    expect(r.code).toBe(1);
    // node's key-decoding messages differ between versions: compare up to them.
    expect(r.stderr.split("\n")[0]?.replace(/(as a (public|private) key:) .*/, "$1 <node's reason>")).toBe(first);
  });

  it("rejects a tampered signed file", async () => {
    const jws = readFileSync(join(dir, "before.jws"), "utf8").trim();
    const [h, p, s] = jws.split(".");
    const payload = Buffer.from(
      Buffer.from(p as string, "base64url")
        .toString()
        .replace("2026.11.0-dev", "2026.11.9-dev"),
    ).toString("base64url");
    file("tampered.jws", `${h}.${payload}.${s}\n`);
    const r = await golden(["verify", "--key", "public.pem", "tampered.jws"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^attestctl golden verify: MANIFEST_SIGNATURE_INVALID: /);
  });

  it("works as a real process (contract)", () => {
    const r = spawnCli(["golden", "verify", "--key", join(dir, "public.pem"), join(dir, "before.jws")]);
    expect(r.code).toBe(0);
    expect(parseManifest(r.stdout)).toEqual(before);
  });
});

/** A stand-in calculator: SHA-384 over the request's digest inputs (the real one is tested against the vectors). */
const fakeCalculator: LaunchDigestCalculator = ({ shape, firmware, kernelSha256, initrdSha256 }) => ({
  measurement: createHash("sha384")
    .update(
      JSON.stringify({
        ...shape,
        guestFeatures: String(shape.guestFeatures),
        policy: String(shape.policy),
        kernelSha256,
        initrdSha256,
      }),
    )
    .update(firmware)
    .digest("hex"),
  vcpuSig: 0x800f12,
});

describe("golden compute / check (dedicated config, stand-in calculator)", () => {
  const firmware = Buffer.from("firmware bytes");
  file("fw.bin", firmware);
  const config = (
    sha = createHash("sha256").update(firmware).digest("hex"),
    size = firmware.length,
  ) => `release: 2026.11.0
environment: staging
artifacts:
  fw: { kind: firmware, sha256: "${sha}", size: ${size}, source: test, path: fw.bin }
  k: { kind: kernel, sha256: "${"1".repeat(64)}", size: 10, source: test }
launchShapes:
  - { name: small, firmware: fw, kernel: k, cmdline: "console=ttyS0", vcpus: 2, vcpuType: EPYC-v4 }
tcbFloors:
  Genoa: { bootloader: 10, tee: 0, snp: 23, microcode: 84 }
chipAllowlist: ["${"b".repeat(128)}", "${"a".repeat(128)}"]
`;
  file("golden.yaml", config());
  const deps: GoldenDeps = { calculator: () => fakeCalculator, now: () => new Date("2030-01-01T00:00:00.789Z") };

  it("computes a manifest with an injected created-at", async () => {
    const r = await golden(
      ["compute", "--config", "golden.yaml", "--created-at", "2026-11-02T10:00:00Z", "--status", "active"],
      deps,
    );
    expect(r.code).toBe(0);
    const m = parseManifest(r.stdout);
    expect(m).toMatchObject({
      release: "2026.11.0",
      environment: "staging",
      createdAt: "2026-11-02T10:00:00Z",
      status: "active",
      allowedPolicyBits: "0x30000",
      chipAllowlist: ["a".repeat(128), "b".repeat(128)],
    });
    expect(m.launchShapes.small?.inputs).toEqual({
      mode: "snp",
      firmware: "fw",
      kernel: "k",
      cmdline: "console=ttyS0",
      vcpus: 2,
      vcpuType: "EPYC-v4",
      vcpuSig: "0x800f12",
      guestFeatures: "0x1",
      vmmType: "QEMU",
      policy: "0x30000",
    });
    expect(r.stderr).toBe(`computed: release 2026.11.0 (staging, active) small=${m.launchShapes.small?.measurement}\n`);
  });

  it.each<[string, string[], Record<string, string>, string]>([
    ["SOURCE_DATE_EPOCH", [], { SOURCE_DATE_EPOCH: "1793527200" }, "2026-11-01T10:00:00Z"],
    ["the clock, truncated to seconds", [], {}, "2030-01-01T00:00:00Z"],
    [
      "--created-at over SOURCE_DATE_EPOCH",
      ["--created-at", "2026-11-02T10:00:00.5Z"],
      { SOURCE_DATE_EPOCH: "1" },
      "2026-11-02T10:00:00Z",
    ],
  ])("takes createdAt from %s; status defaults to pending", async (_name, extra, env, expected) => {
    const r = await golden(["compute", "--config", "golden.yaml", ...extra], deps, env);
    expect(r.code).toBe(0);
    expect(parseManifest(r.stdout)).toMatchObject({ createdAt: expected, status: "pending" });
  });

  it("check passes on a current manifest and fails with a diff when the config moves", async () => {
    await golden(
      [
        "compute",
        "--config",
        "golden.yaml",
        "--created-at",
        "2026-11-02T10:00:00Z",
        "--status",
        "active",
        "--out",
        "golden.json",
      ],
      deps,
    );
    expect(await golden(["check", "--config", "golden.yaml", "--manifest", "golden.json"], deps)).toEqual({
      code: 0,
      stdout: "",
      stderr: "current: golden.json matches golden.yaml (1 launch shape)\n",
    });
    file("moved.yaml", config().replace("console=ttyS0", "console=ttyS1"));
    const r = await golden(["check", "--config", "moved.yaml", "--manifest", "golden.json"], deps);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "stale: golden.json does not match moved.yaml; regenerate with:\n  attestctl golden compute --config moved.yaml --created-at 2026-11-02T10:00:00Z --status active --out golden.json\n",
    );
    expect(r.stdout).toContain("| `small` | ");
    expect(r.stdout).toContain("| cmdline |");
  });

  it("check fails when only the formatting differs", async () => {
    file("golden-min.json", JSON.stringify(parseManifest(readFileSync(join(dir, "golden.json")))));
    const r = await golden(["check", "--config", "golden.yaml", "--manifest", "golden-min.json"], deps);
    expect(r).toMatchObject({ code: 1, stdout: "Only the formatting differs from the generated form.\n" });
  });

  it.each([
    [
      "a wrong digest",
      config("0".repeat(64)),
      `attestctl golden compute: ARTIFACT_MISMATCH: artifact bytes do not match their pins (1 problem):\nartifacts.fw.sha256: pinned ${"0".repeat(64)}, the file has ${createHash("sha256").update(firmware).digest("hex")}\n`,
    ],
    [
      "a wrong size",
      config(undefined, 99),
      `attestctl golden compute: ARTIFACT_MISMATCH: artifact bytes do not match their pins (1 problem):\nartifacts.fw.size: pinned 99 bytes, the file has 14\n`,
    ],
    [
      "an unknown key",
      `${config()}colour: blue\n`,
      "attestctl golden compute: GOLDEN_CONFIG_INVALID: invalid golden config (1 problem):\ncolour: unknown key\n",
    ],
    [
      "a firmware without a path",
      config().replace(", path: fw.bin", ""),
      'attestctl golden compute: GOLDEN_CONFIG_INVALID: cannot compute the golden manifest:\nlaunchShapes.small.firmware: artifact "fw" needs a path: the launch digest hashes every firmware page\n',
    ],
    [
      "a missing artifact file",
      config().replace("path: fw.bin", "path: nowhere.bin"),
      "attestctl golden compute: cannot read " + join(dir, "nowhere.bin") + ": ENOENT\n",
    ],
  ])("compute fails with exit 1 on %s", async (_name, text, stderr) => {
    file("bad.yaml", text);
    expect(await golden(["compute", "--config", "bad.yaml"], deps)).toEqual({ code: 1, stdout: "", stderr });
  });

  it("reports a calculator refusal as MEASUREMENT_FAILED", async () => {
    const r = await golden(["compute", "--config", "golden.yaml"], {
      calculator: () => () => {
        throw new Error("unknown vCPU type EPYC-v9");
      },
    });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "attestctl golden compute: MEASUREMENT_FAILED: computing the measurement of launch shape small: unknown vCPU type EPYC-v9\n",
    });
  });

  it("exits 2 when no calculator is available", async () => {
    const r = await golden(["compute", "--config", "golden.yaml"], {});
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      "attestctl golden compute: the SNP launch-digest calculator (measurements/snp) is not available in this build",
    );
  });
});
