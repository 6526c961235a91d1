import { describe, expect, it } from "vitest";
import {
  defaultAttestationPolicy,
  parseAttestationPolicy,
  type SnpAttestationPolicyInput,
} from "../../runtime/attestation/validate/attestation-policy.js";
import { memoryReplayGuard } from "../../runtime/attestation/validate/replay.js";
import { validateSnpReport } from "../../runtime/attestation/validate/validate.js";
import type { SimulatedReportInput } from "../../runtime/simulators/snp/report.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { parseCertificate } from "../../core/index.js";
import { A02_MEASUREMENT } from "../helpers/golden.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import { BINDING, codes, NOW, policy, real, simulated } from "../helpers/validate-report.js";

describe("validateSnpReport", () => {
  it("accepts a conforming simulated report with no failures and no warnings", async () => {
    const v = validateSnpReport({
      evidence: await simulated(),
      policy: policy({
        measurements: [A02_MEASUREMENT],
        tcbFloors: { Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } },
      }),
      expectedReportData: BINDING,
      now: NOW,
    });
    expect(v).toEqual({ failures: [], warnings: [], matches: [] });
  });

  it("warns about what it could not check", async () => {
    const v = validateSnpReport({ evidence: await simulated(), policy: defaultAttestationPolicy(), now: NOW });
    expect(v.warnings).toEqual([
      "measurement not checked: the policy lists no measurements and no golden manifests were given",
      "REPORT_DATA not checked: no expected binding was given",
    ]);
  });

  it("reports every failure at once, each with its path", async () => {
    const ev = await simulated({
      policy: { smt: true, debug: true, migrateMa: true },
      vmpl: 2,
      reportedTcb: { bootloader: 3, tee: 0, snp: 20, microcode: 219 },
      measurement: "00".repeat(48),
      reportData: "ff",
    });
    expect(
      codes(ev, {
        measurements: [A02_MEASUREMENT],
        tcbFloors: { Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } },
      }),
    ).toEqual([
      "MEASUREMENT_NOT_ALLOWED report.measurement",
      "DEBUG_ALLOWED report.policy.debug",
      "MIGRATION_AGENT_ALLOWED report.policy.migrateMa",
      "VMPL report.vmpl",
      "REPORT_DATA_MISMATCH report.reportData",
      "TCB_BELOW_FLOOR report.reportedTcb.bootloader",
      "TCB_BELOW_FLOOR report.reportedTcb.snp",
    ]);
  });

  const CHIP_OTHER = "ab".repeat(64);
  const table: readonly (readonly [
    string,
    Partial<SimulatedReportInput>,
    SnpAttestationPolicyInput,
    readonly string[],
  ])[] = [
    ["debug policy", { policy: { smt: true, debug: true } }, {}, ["DEBUG_ALLOWED report.policy.debug"]],
    ["debug policy, allowed", { policy: { smt: true, debug: true } }, { allowDebug: true }, []],
    ["migration agent", { policy: { migrateMa: true } }, {}, ["MIGRATION_AGENT_ALLOWED report.policy.migrateMa"]],
    [
      "SMT allowed but the policy requires it disabled",
      {},
      { requireSmtDisabled: true },
      ["GUEST_POLICY report.policy.smt"],
    ],
    [
      "single socket required",
      {},
      { guestPolicy: { requireSingleSocket: true } },
      ["GUEST_POLICY report.policy.singleSocket"],
    ],
    [
      "ciphertext hiding required",
      {},
      { guestPolicy: { requireCiphertextHiding: true } },
      ["GUEST_POLICY report.policy.ciphertextHiding"],
    ],
    [
      "CXL forbidden",
      { policy: { cxlAllow: true } },
      { guestPolicy: { allowCxl: false } },
      ["GUEST_POLICY report.policy.cxlAllow"],
    ],
    [
      "guest ABI below the minimum",
      { policy: { abiMajor: 1, abiMinor: 50 } },
      { guestPolicy: { minAbiMajor: 1, minAbiMinor: 51 } },
      ["GUEST_POLICY report.policy.abiMajor"],
    ],
    [
      "POLICY bit outside allowedPolicyBits",
      { policy: { smt: true, singleSocket: true } },
      { allowedPolicyBits: "0x30000" },
      ["GUEST_POLICY report.policy"],
    ],
    ["POLICY bits within allowedPolicyBits", { policy: { smt: true } }, { allowedPolicyBits: "0x30000" }, []],
    ["VMPL 1 with max 0", { vmpl: 1 }, {}, ["VMPL report.vmpl"]],
    ["VMPL 1 with max 1", { vmpl: 1 }, { maxVmpl: 1 }, []],
    [
      "unknown measurement",
      { measurement: "11".repeat(48) },
      { measurements: [A02_MEASUREMENT] },
      ["MEASUREMENT_NOT_ALLOWED report.measurement"],
    ],
    [
      "TCB below floor (snp)",
      { reportedTcb: { bootloader: 4, tee: 0, snp: 23, microcode: 219 } },
      { tcbFloors: { Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } } },
      ["TCB_BELOW_FLOOR report.reportedTcb.snp"],
    ],
    [
      "TCB floor for another product does not apply",
      { reportedTcb: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
      { tcbFloors: { Genoa: { bootloader: 9, tee: 9, snp: 9, microcode: 9 } } },
      [],
    ],
    ["report_data mismatch", { reportData: Buffer.alloc(64, 7) }, {}, ["REPORT_DATA_MISMATCH report.reportData"]],
    [
      "host_data not allowed",
      { hostData: "01".repeat(32) },
      { hostData: ["02".repeat(32)] },
      ["HOST_DATA_MISMATCH report.hostData"],
    ],
    [
      "id key not trusted",
      { idKeyDigest: "01".repeat(48) },
      { idKeyDigests: ["02".repeat(48)] },
      ["ID_KEY_NOT_TRUSTED report.idKeyDigest"],
    ],
    [
      "author key required but absent",
      {},
      { authorKeyDigests: ["03".repeat(48)] },
      ["AUTHOR_KEY_NOT_TRUSTED report.keyInfo.authorKeyEn"],
    ],
    [
      "author key not trusted",
      { authorKeyEn: true, authorKeyDigest: "04".repeat(48) },
      { authorKeyDigests: ["03".repeat(48)] },
      ["AUTHOR_KEY_NOT_TRUSTED report.authorKeyDigest"],
    ],
    [
      "author key trusted",
      { authorKeyEn: true, authorKeyDigest: "03".repeat(48) },
      { authorKeyDigests: ["03".repeat(48)] },
      [],
    ],
    [
      "family id differs",
      { familyId: "01".repeat(16) },
      { familyId: "02".repeat(16) },
      ["FIELD_MISMATCH report.familyId"],
    ],
    ["image id differs", {}, { imageId: "02".repeat(16) }, ["FIELD_MISMATCH report.imageId"]],
    ["chip not allowlisted", {}, { chipAllowlist: [CHIP_OTHER] }, ["CHIP_NOT_ALLOWED report.chipId"]],
    [
      "chip allowlist with a masked CHIP_ID",
      { maskChipId: true },
      { chipAllowlist: [CHIP_OTHER] },
      ["CHIP_NOT_ALLOWED report.chipId"],
    ],
    ["guest SVN too low", { guestSvn: 1 }, { minGuestSvn: 2 }, ["GUEST_SVN_TOO_LOW report.guestSvn"]],
    [
      "alias check required",
      { platformInfo: 0x5n },
      { platformInfo: { requireAliasCheckComplete: true } },
      ["PLATFORM_INFO report.platformInfo.aliasCheckComplete"],
    ],
    [
      "SMT enabled on the host, policy forbids",
      {},
      { platformInfo: { requireSmtDisabled: true } },
      ["PLATFORM_INFO report.platformInfo.smtEnabled"],
    ],
    [
      "unknown PLATFORM_INFO bits forbidden",
      { platformInfo: 0x125n },
      { platformInfo: { forbidUnknownBits: true } },
      ["PLATFORM_INFO report.platformInfo.unknownBits"],
    ],
    [
      "firmware below the minimum",
      { firmware: { major: 1, minor: 55, build: 20 } },
      { minFirmware: { major: 1, minor: 55, build: 21 } },
      ["FIRMWARE_TOO_OLD report.currentVersion"],
    ],
    [
      "provisional firmware (committed TCB below current)",
      { currentTcb: { bootloader: 4, tee: 0, snp: 25, microcode: 219 } },
      {},
      ["FIRMWARE_TOO_OLD report.committedTcb"],
    ],
    [
      "provisional firmware, permitted",
      { currentTcb: { bootloader: 4, tee: 0, snp: 25, microcode: 219 } },
      { permitProvisionalFirmware: true },
      [],
    ],
  ];

  it.each(table)("%s", async (_name, input, p, expected) => {
    expect(codes(await simulated(input), p)).toEqual(expected);
  });

  it("accepts a chip on the allowlist (Turin ids also by their 16 significant hex)", async () => {
    const ev = await simulated();
    expect(codes(ev, { chipAllowlist: [ev.claims.chipId] })).toEqual([]);
    const turin = await sharedSimulatedSnp("Turin");
    const t = await turin.sign({ measurement: A02_MEASUREMENT, reportData: BINDING });
    const tev = await verifySnpEvidence({
      report: t.report,
      collateral: t.collateral,
      anchors: [turin.anchor()],
      now: new Date(parseCertificate(t.vek).notBefore.getTime() + 86_400_000),
    });
    expect(codes(tev, { chipAllowlist: [turin.chipId.subarray(0, 8).toString("hex")] })).toEqual([]);
  });

  it("rejects a replayed binding: the first use passes, the second is REPORT_DATA_REPLAYED", async () => {
    const replay = memoryReplayGuard({ ttlMs: 60_000 });
    const ev = await simulated();
    const run = (now: Date) =>
      validateSnpReport({
        evidence: ev,
        policy: defaultAttestationPolicy(),
        expectedReportData: BINDING,
        replay,
        now,
      }).failures.map((f) => f.code);
    expect(run(NOW)).toEqual([]);
    expect(run(new Date(NOW.getTime() + 1000))).toEqual(["REPORT_DATA_REPLAYED"]);
    expect(run(new Date(NOW.getTime() + 61_000))).toEqual([]);
  });

  it("does not consume a binding when another check failed", async () => {
    const replay = memoryReplayGuard({ ttlMs: 60_000 });
    const ev = await simulated({ vmpl: 1 });
    expect(
      validateSnpReport({
        evidence: ev,
        policy: defaultAttestationPolicy(),
        expectedReportData: BINDING,
        replay,
        now: NOW,
      }).failures.map((f) => f.code),
    ).toEqual(["VMPL"]);
    expect(
      validateSnpReport({
        evidence: ev,
        policy: parseAttestationPolicy({ maxVmpl: 1 }),
        expectedReportData: BINDING,
        replay,
        now: NOW,
      }).failures,
    ).toEqual([]);
  });

  it.each([
    ["milan-v2-vcek-gsg", {}, ["DEBUG_ALLOWED report.policy.debug"]],
    ["vlek", {}, ["VMPL report.vmpl", "FIRMWARE_TOO_OLD report.committedTcb"]],
    [
      "vlek",
      { maxVmpl: 1, permitProvisionalFirmware: true, chipAllowlist: ["00".repeat(64)] },
      ["CHIP_NOT_ALLOWED report.chipId"],
    ],
    ["milan-v2-vcek-trustee", {}, ["FIRMWARE_TOO_OLD report.committedTcb"]],
    [
      "milan-v2-vcek-virtee",
      { platformInfo: { requireAliasCheckComplete: true } },
      ["PLATFORM_INFO report.platformInfo.aliasCheckComplete"],
    ],
    ["turin", { platformInfo: { requireAliasCheckComplete: true, requireEcc: true, forbidUnknownBits: true } }, []],
    [
      "genoa-v5-vcek-oak",
      { tcbFloors: { Genoa: { bootloader: 10, tee: 0, snp: 26, microcode: 84 } } },
      ["TCB_BELOW_FLOOR report.reportedTcb.snp"],
    ],
  ] as [string, SnpAttestationPolicyInput, string[]][])(
    "real report %s under %j -> %j",
    async (fragment, p, expected) => {
      expect(codes(await real(fragment), p, { expectedReportData: (await real(fragment)).report.reportData })).toEqual(
        expected,
      );
    },
  );
});
