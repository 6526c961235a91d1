import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCertificate } from "../../core/index.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import { SNP_VECTORS } from "../helpers/snp-vectors.js";

const V = SNP_VECTORS;
const TURIN = [
  "verify",
  "snp",
  "--report",
  `${V}/reports/turin-v5-vcek-oak-oc.bin`,
  "--vcek",
  `${V}/certs/vcek-turin-oak-oc.der`,
  "--at",
  "2026-01-01T00:00:00Z",
];
const GSG = [
  "verify",
  "snp",
  "--report",
  `${V}/reports/milan-v2-vcek-gsg-attestation.bin`,
  "--vcek",
  `${V}/certs/vcek-milan-gsg-testcer.der`,
  "--at",
  "2026-01-01T00:00:00Z",
];

function dir(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), "verify-cli-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}

describe("attestctl verify snp", () => {
  it("accepts a real Turin report with --vcek (authenticity only) and prints the claims", async () => {
    const r = await runCli(TURIN);
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "accepted: SEV-SNP report v5, Turin, signed by VCEK (Turin), root amd-turin; authenticity and structure only (no --policy)",
        "measurement: f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624",
        "reported TCB: bl=1 tee=0 snp=2 ucode=71 fmc=0",
        `chip id: 3b42092f69c656d3${"0".repeat(112)}`,
        "guest policy: 0x30000 SMT  vmpl: 0  guest svn: 0",
        `host data: ${"0".repeat(64)}`,
        "platform info: 0x67  firmware: 1.55.61",
        "report sha256: 3f44a09b769aae243b2c603c2a6f53d4b1cf5feb36b380ea29adcf47da847e20",
        "",
      ].join("\n"),
    });
  });

  it("reads --certs DIR in the AMD tooling layout (ark.pem, ask.pem, vcek.der)", async () => {
    const d = dir({});
    copyFileSync(`${V}/amd-roots/ark-milan.pem`, join(d, "ark.pem"));
    copyFileSync(`${V}/amd-roots/ask-milan.pem`, join(d, "ask.pem"));
    copyFileSync(`${V}/certs/vcek-milan-oak-cb.der`, join(d, "vcek.der"));
    const r = await runCli([
      "verify",
      "snp",
      "--report",
      `${V}/reports/milan-v3-vcek-oak-cb.bin`,
      "--certs",
      d,
      "--at",
      "2026-01-01T00:00:00Z",
    ]);
    expect([r.code, r.stdout.split("\n")[0]]).toEqual([
      0,
      "accepted: SEV-SNP report v3, Milan, signed by VCEK (Milan-B0), root amd-milan; authenticity and structure only (no --policy)",
    ]);
  });

  it("reads a VLEK chain from --certs DIR (asvk.pem, vlek.der) and rejects it after the VLEK expired", async () => {
    const d = dir({});
    copyFileSync(`${V}/amd-roots/asvk-milan.pem`, join(d, "asvk.pem"));
    copyFileSync(`${V}/certs/vlek-milan-trustee-test-vlek.der`, join(d, "vlek.der"));
    const args = [
      "verify",
      "snp",
      "--report",
      `${V}/reports/milan-v3-vlek-vmpl1-trustee-test-vlek-report.bin`,
      "--certs",
      d,
    ];
    expect((await runCli([...args, "--at", "2024-12-11T22:14:21Z"])).code).toBe(0);
    const expired = await runCli([...args, "--at", "2026-01-01T00:00:00Z"]);
    expect([expired.code, expired.stderr.split("\n")[0]]).toEqual([
      1,
      "rejected: CERTIFICATE_EXPIRED: verifying VEK chain: SEV-VLEK expired at 2025-12-10T22:14:21.000Z (now 2026-01-01T00:00:00.000Z)",
    ]);
  });

  it("prints the verdict and claims as JSON with --json", async () => {
    const r = await runCli([...TURIN, "--json"]);
    const j = JSON.parse(r.stdout);
    expect([
      r.code,
      j.accepted,
      j.checked,
      j.product,
      j.rootId,
      j.claims.reportedTcb,
      j.vek.productName,
      j.report.platformInfo.raw,
      j.report.reportDataSha256.length,
    ]).toEqual([
      0,
      true,
      "authenticity",
      "Turin",
      "amd-turin",
      { bootloader: 1, tee: 0, snp: 2, microcode: 71, fmc: 0 },
      "Turin",
      "0x67",
      64,
    ]);
    expect(r.stdout).not.toContain('reportData"');
  });

  it("rejects a tampered report: exit 1, first stderr line `rejected: CODE: message`", async () => {
    const raw = Buffer.from(
      await import("node:fs").then((fs) => fs.readFileSync(`${V}/reports/turin-v5-vcek-oak-oc.bin`)),
    );
    raw[0x90] = (raw[0x90] as number) ^ 1;
    const d = dir({ "report.bin": raw });
    const r = await runCli(["verify", "snp", "--report", join(d, "report.bin"), ...TURIN.slice(4)]);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      "",
      "rejected: REPORT_SIGNATURE: verifying report: the ECDSA P-384 signature does not verify with the VCEK\n",
    ]);
  });

  it("with --policy: rejects a debug guest, listing every failure", async () => {
    const d = dir({
      "policy.json": JSON.stringify({
        maxVmpl: 0,
        tcbFloors: { Milan: { bootloader: 3, tee: 0, snp: 8, microcode: 115 } },
      }),
    });
    const r = await runCli([...GSG, "--policy", join(d, "policy.json")]);
    expect([r.code, r.stderr]).toEqual([
      1,
      [
        "rejected: DEBUG_ALLOWED: the guest allows debugging (POLICY.DEBUG = 1)",
        "  TCB_BELOW_FLOOR report.reportedTcb.bootloader: bootloader SVN 2 is below the Milan floor 3 (policy)",
        "  TCB_BELOW_FLOOR report.reportedTcb.snp: snp SVN 5 is below the Milan floor 8 (policy)",
        "  TCB_BELOW_FLOOR report.reportedTcb.microcode: microcode SVN 68 is below the Milan floor 115 (policy)",
        "",
      ].join("\n"),
    ]);
    const j = JSON.parse((await runCli([...GSG, "--policy", join(d, "policy.json"), "--json"])).stdout);
    expect([j.accepted, j.driftClass, j.failures.map((f: { code: string }) => f.code)]).toEqual([
      false,
      "tcb-below-floor",
      ["DEBUG_ALLOWED", "TCB_BELOW_FLOOR", "TCB_BELOW_FLOOR", "TCB_BELOW_FLOOR"],
    ]);
  });

  it("with --policy: accepts and prints the drift class", async () => {
    const d = dir({
      "policy.json": JSON.stringify({
        measurements: [
          "f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624",
        ],
        platformInfo: { requireAliasCheckComplete: true },
      }),
    });
    const r = await runCli([...TURIN, "--policy", join(d, "policy.json")]);
    expect([r.code, r.stdout.split("\n").slice(0, 2), r.stdout.split("\n").at(-2)]).toEqual([
      0,
      [
        "accepted: SEV-SNP report v5, Turin, signed by VCEK (Turin), root amd-turin; policy satisfied",
        "drift class: ok (authentic; no golden manifests given, so the class reflects the policy checks only)",
      ],
      "warning: REPORT_DATA not checked: no expected binding was given",
    ]);
  });

  it("refuses the report without a published VCEK with COLLATERAL_UNAVAILABLE (offline KDS directory)", async () => {
    const kds = mkdtempSync(join(tmpdir(), "kds-empty-"));
    const r = await runCli(
      [
        "verify",
        "snp",
        "--report",
        `${V}/reports/genoa-v2-vcek-routex-no-vcek.bin`,
        "--product",
        "Genoa",
        "--at",
        "2026-01-01",
      ],
      undefined,
      { ATTESTCTL_KDS_DIR: kds },
    );
    expect([r.code, r.stderr.split(":").slice(0, 2).join(":")]).toEqual([1, "rejected: COLLATERAL_UNAVAILABLE"]);
  });

  it("accepts simulated evidence only when the policy trusts the simulated root", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement: "ab".repeat(48) });
    const d = dir({ "report.bin": ev.report, "vcek.der": ev.vek });
    mkdirSync(join(d, "certs"));
    copyFileSync(join(sim.dir, "ark.pem"), join(d, "certs", "ark.pem"));
    copyFileSync(join(sim.dir, "ask.pem"), join(d, "certs", "ask.pem"));
    copyFileSync(join(d, "vcek.der"), join(d, "certs", "vcek.der"));
    writeFileSync(join(d, "dev.json"), JSON.stringify({ allowedRoots: ["simulated"] }));
    writeFileSync(join(d, "prod.json"), JSON.stringify({}));
    const at = new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000).toISOString();
    const base = ["verify", "snp", "--report", join(d, "report.bin"), "--certs", join(d, "certs"), "--at", at];
    expect((await runCli([...base, "--policy", join(d, "dev.json")])).stdout.split("\n")[0]).toBe(
      "accepted: SEV-SNP report v5, Genoa, signed by VCEK (Genoa), root simulated; policy satisfied",
    );
    expect((await runCli([...base, "--policy", join(d, "prod.json")])).stderr.split(":")[1]).toBe(" UNTRUSTED_ROOT");
    expect((await runCli(base)).stderr.split(":")[1]).toBe(" UNTRUSTED_ROOT");
  });

  it.each([
    [["verify"], "attestctl verify: missing the evidence type (snp or tdx)"],
    [["verify", "sgx", "--report", "x"], 'attestctl verify: unknown evidence type "sgx" (supported: snp, tdx)'],
    [["verify", "tdx", "--report", "x"], "attestctl verify: unknown option --report"],
    [["verify", "tdx"], "attestctl verify: --quote FILE is required"],
    [["verify", "tdx", "--quote", "q", "--at", "soon"], 'attestctl verify: --at "soon" is not an ISO-8601 time'],
    [["verify", "snp"], "attestctl verify: --report FILE is required"],
    [["verify", "snp", "--report", "x", "--frobnicate"], "attestctl verify: unknown option --frobnicate"],
    [
      ["verify", "snp", "--report", "x", "--product", "Rome"],
      "attestctl verify: --product must be one of Milan, Genoa, Turin",
    ],
    [
      ["verify", "snp", "--report", "x", "--at", "yesterday"],
      'attestctl verify: --at "yesterday" is not an ISO-8601 time',
    ],
    [
      ["verify", "snp", "--report", "/nonexistent/report.bin"],
      "attestctl verify: cannot read report /nonexistent/report.bin: ENOENT",
    ],
  ])("usage error %j -> exit 2", async (argv, first) => {
    const r = await runCli(argv);
    expect([r.code, r.stdout, r.stderr.split("\n")[0], r.stderr.split("\n")[1]]).toEqual([
      2,
      "",
      first,
      "usage: attestctl verify snp --report FILE [--vcek FILE] [--certs DIR] [--product Milan|Genoa|Turin]",
    ]);
  });

  it("an invalid policy file is a usage error listing every problem", async () => {
    const d = dir({ "policy.json": JSON.stringify({ maxVmpl: 9, allowDebug: "no" }) });
    const r = await runCli([...TURIN, "--policy", join(d, "policy.json")]);
    expect([r.code, r.stderr.split("\n").slice(0, 3)]).toEqual([
      2,
      [
        `attestctl verify: --policy ${join(d, "policy.json")}: invalid attestation policy (2 problems):`,
        "policy.allowDebug: Invalid input: expected boolean, received string",
        "policy.maxVmpl: Too big: expected number to be <=3",
      ],
    ]);
  });

  it("keeps the contract as a real process: exit 0, 1 and 2", () => {
    const ok = spawnCli(TURIN);
    const rejected = spawnCli([
      ...TURIN.slice(0, 4),
      "--vcek",
      `${V}/certs/vcek-genoa-oak-oc.der`,
      "--at",
      "2026-01-01T00:00:00Z",
    ]);
    const usage = spawnCli(["verify", "snp"]);
    expect([ok.code, rejected.code, rejected.stderr.split("\n")[0], usage.code]).toEqual([
      0,
      1,
      'rejected: PRODUCT_MISMATCH: verifying VEK chain: SEV-VCEK productName "Genoa" is not a Turin part',
      2,
    ]);
  });

  it("prints help with --help (exit 0)", async () => {
    const r = await runCli(["verify", "--help"]);
    expect([r.code, r.stdout.split("\n")[0]]).toEqual([
      0,
      "usage: attestctl verify snp --report FILE [--vcek FILE] [--certs DIR] [--product Milan|Genoa|Turin]",
    ]);
  });
});
