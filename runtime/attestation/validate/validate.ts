/**
 * `validateSnpReport`: compares an authentic report's fields with the policy and the golden
 * manifests. It never looks at signatures (verify/ did) and reports every failure at once, each
 * with a code and a field path.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isBelow, type TcbComponents } from "../../../measurements/drift/index.js";
import {
  disallowedPolicyBits,
  ManifestSet,
  type GoldenManifest,
  type MeasurementMatch,
} from "../../../measurements/manifest/index.js";
import { tcbComponentNames, tcbComponents } from "../abi/tcb.js";
import type { AttestationErrorCode } from "../errors.js";
import type { VerifiedSnpEvidence } from "../verify/verify.js";
import type { SnpAttestationPolicy } from "./attestation-policy.js";
import type { ReplayGuard } from "./replay.js";

/** One reason a report is not acceptable. */
export interface PolicyFailure {
  readonly code: AttestationErrorCode;
  /** Field path, e.g. `report.policy.debug`, `report.reportedTcb.snp`. */
  readonly path: string;
  readonly message: string;
}

/** Options of {@link validateSnpReport}. */
export interface ValidateSnpOptions {
  /** Output of `verifySnpEvidence`. */
  readonly evidence: VerifiedSnpEvidence;
  readonly policy: SnpAttestationPolicy;
  /** Golden manifests (verified); the measurement must be in an active one, whose lists also apply. */
  readonly manifests?: ManifestSet | readonly GoldenManifest[];
  /** Expected REPORT_DATA (e.g. SHA-512(nonce || key thumbprint)); takes precedence over `policy.reportData`. */
  readonly expectedReportData?: Uint8Array;
  /** Marks the binding used; consulted only when every other check passed. */
  readonly replay?: ReplayGuard;
  /** The time of the appraisal (replay expiry). */
  readonly now: Date;
}

/** What validation found. */
export interface SnpValidation {
  readonly failures: readonly PolicyFailure[];
  /** Things not checked or worth a look (never secrets). */
  readonly warnings: readonly string[];
  /** Active manifests holding the measurement (empty without manifests). */
  readonly matches: readonly MeasurementMatch[];
}

const hexOf = (b: Buffer) => b.toString("hex");

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value allowed by every list that constrains it: the policy's and, when matched, at least one active manifest's. */
function listFailure(
  value: string,
  policyList: readonly string[] | undefined,
  manifestLists: readonly (readonly string[] | undefined)[],
): string | undefined {
  if (policyList && !policyList.includes(value)) return "not in the policy's list";
  const constraining = manifestLists.filter((l): l is readonly string[] => l !== undefined);
  if (constraining.length > 0 && !constraining.some((l) => l.includes(value)))
    return "not in the golden manifest's list";
  return undefined;
}

/**
 * Validates an authentic report against a policy (and golden manifests). Pure, except for the
 * injected replay guard.
 *
 * @example
 * const { failures } = validateSnpReport({ evidence, policy: parseAttestationPolicy(json), manifests, expectedReportData, now });
 * failures.map((f) => `${f.code} ${f.path}`); // [] when acceptable
 */
export function validateSnpReport(opts: ValidateSnpOptions): SnpValidation {
  const { evidence, policy } = opts;
  const r = evidence.report;
  const failures: PolicyFailure[] = [];
  const warnings: string[] = [];
  const fail = (code: AttestationErrorCode, path: string, message: string) => failures.push({ code, path, message });

  // Measurement: the policy's list and/or an active golden manifest.
  const measurement = hexOf(r.measurement);
  const set =
    opts.manifests === undefined
      ? undefined
      : opts.manifests instanceof ManifestSet
        ? opts.manifests
        : new ManifestSet(opts.manifests);
  const all = set ? set.lookup(measurement).filter((m) => m.manifest.platform === "sev-snp") : [];
  const matches = all.filter((m) => m.status === "active");
  if (policy.measurements && !policy.measurements.includes(measurement))
    fail(
      "MEASUREMENT_NOT_ALLOWED",
      "report.measurement",
      "the measurement is not in the policy's allowed measurements",
    );
  if (set && matches.length === 0) {
    const status = all[0]?.status;
    fail(
      "MEASUREMENT_NOT_ALLOWED",
      "report.measurement",
      status
        ? `the measurement is only in ${status} golden manifests (${all.map((m) => m.manifest.release).join(", ")})`
        : "the measurement is in no golden manifest",
    );
  }
  if (!set && !policy.measurements)
    warnings.push("measurement not checked: the policy lists no measurements and no golden manifests were given");
  const manifests = matches.map((m) => m.manifest);

  // Guest policy bits.
  const gp = r.policy;
  if (gp.debug && !policy.allowDebug)
    fail("DEBUG_ALLOWED", "report.policy.debug", "the guest allows debugging (POLICY.DEBUG = 1)");
  if (gp.migrateMa && !policy.allowMigrationAgent)
    fail(
      "MIGRATION_AGENT_ALLOWED",
      "report.policy.migrateMa",
      "the guest may be associated with a migration agent (POLICY.MIGRATE_MA = 1)",
    );
  if (gp.smt && policy.requireSmtDisabled)
    fail("GUEST_POLICY", "report.policy.smt", "the guest allows SMT; the policy requires it forbidden");
  const req = policy.guestPolicy;
  const needed: readonly (readonly [boolean, boolean, string])[] = [
    [req.requireSingleSocket, gp.singleSocket, "singleSocket"],
    [req.requireMemAes256Xts, gp.memAes256Xts, "memAes256Xts"],
    [req.requireRaplDisabled, gp.raplDis, "raplDis"],
    [req.requireCiphertextHiding, gp.ciphertextHiding, "ciphertextHiding"],
    [req.requirePageSwapDisable, gp.pageSwapDisable, "pageSwapDisable"],
  ];
  for (const [required, set_, name] of needed)
    if (required && !set_) fail("GUEST_POLICY", `report.policy.${name}`, `the policy requires POLICY.${name}`);
  if (gp.cxlAllow && !req.allowCxl)
    fail("GUEST_POLICY", "report.policy.cxlAllow", "the guest allows CXL memory; the policy forbids it");
  if (gp.abiMajor < req.minAbiMajor || (gp.abiMajor === req.minAbiMajor && gp.abiMinor < req.minAbiMinor)) {
    fail(
      "GUEST_POLICY",
      "report.policy.abiMajor",
      `the guest's minimum ABI ${gp.abiMajor}.${gp.abiMinor} is below ${req.minAbiMajor}.${req.minAbiMinor}`,
    );
  }
  if (
    policy.allowedPolicyBits !== undefined &&
    disallowedPolicyBits({ allowedPolicyBits: policy.allowedPolicyBits }, gp.raw) !== 0n
  ) {
    fail(
      "GUEST_POLICY",
      "report.policy",
      `POLICY 0x${gp.raw.toString(16)} has bits the policy does not allow (0x${disallowedPolicyBits({ allowedPolicyBits: policy.allowedPolicyBits }, gp.raw).toString(16)})`,
    );
  }
  if (manifests.length > 0 && manifests.every((m) => disallowedPolicyBits(m, gp.raw) !== 0n)) {
    fail(
      "GUEST_POLICY",
      "report.policy",
      `POLICY 0x${gp.raw.toString(16)} has bits the golden manifest does not allow (0x${disallowedPolicyBits(manifests[0] as GoldenManifest, gp.raw).toString(16)})`,
    );
  }

  if (r.vmpl > policy.maxVmpl)
    fail("VMPL", "report.vmpl", `the report comes from VMPL ${r.vmpl}; at most ${policy.maxVmpl} is accepted`);
  if (r.guestSvn < policy.minGuestSvn)
    fail("GUEST_SVN_TOO_LOW", "report.guestSvn", `GUEST_SVN ${r.guestSvn} is below ${policy.minGuestSvn}`);

  // A launch shape that binds HOST_DATA (a Kata pod's initdata digest) admits only guests carrying it.
  const shapes = matches.map((m) => ({ name: m.shape, bound: m.manifest.launchShapes[m.shape]?.hostData }));
  if (shapes.length > 0 && shapes.every((s) => s.bound !== undefined)) {
    const got = hexOf(r.hostData);
    if (!shapes.some((s) => s.bound === got))
      fail(
        "HOST_DATA_MISMATCH",
        "report.hostData",
        `HOST_DATA is ${got}; launch shape ${shapes.map((s) => s.name).join(", ")} binds ${[...new Set(shapes.map((s) => s.bound))].join(", ")} (the initdata digest of its workload)`,
      );
  }
  const hostData = listFailure(
    hexOf(r.hostData),
    policy.hostData,
    manifests.map((m) => m.hostData),
  );
  if (hostData) fail("HOST_DATA_MISMATCH", "report.hostData", `HOST_DATA is ${hostData}`);
  const idKey = listFailure(
    hexOf(r.idKeyDigest),
    policy.idKeyDigests,
    manifests.map((m) => m.idKeyDigests),
  );
  if (idKey) fail("ID_KEY_NOT_TRUSTED", "report.idKeyDigest", `ID_KEY_DIGEST is ${idKey}`);
  if (policy.authorKeyDigests) {
    if (!r.keyInfo.authorKeyEn)
      fail("AUTHOR_KEY_NOT_TRUSTED", "report.keyInfo.authorKeyEn", "an author key is required but AUTHOR_KEY_EN is 0");
    else if (!policy.authorKeyDigests.includes(hexOf(r.authorKeyDigest)))
      fail("AUTHOR_KEY_NOT_TRUSTED", "report.authorKeyDigest", "AUTHOR_KEY_DIGEST is not trusted");
  }
  if (policy.familyId && hexOf(r.familyId) !== policy.familyId)
    fail("FIELD_MISMATCH", "report.familyId", "FAMILY_ID differs from the policy");
  if (policy.imageId && hexOf(r.imageId) !== policy.imageId)
    fail("FIELD_MISMATCH", "report.imageId", "IMAGE_ID differs from the policy");

  const expected = opts.expectedReportData ?? (policy.reportData ? Buffer.from(policy.reportData, "hex") : undefined);
  const bindingOk = expected === undefined || sameBytes(r.reportData, expected);
  if (!bindingOk) fail("REPORT_DATA_MISMATCH", "report.reportData", "REPORT_DATA does not equal the expected binding");
  if (expected === undefined) warnings.push("REPORT_DATA not checked: no expected binding was given");

  // Chip allowlist (a Turin id may be listed by its 8 significant bytes).
  const chipLists = [policy.chipAllowlist, ...manifests.map((m) => m.chipAllowlist)].filter((l) => l !== undefined);
  if (chipLists.length > 0) {
    const full = hexOf(r.chipId);
    const listed = (l: readonly string[]) =>
      l.some((c) => c === full || (c.length === 16 && full === c + "0".repeat(112)));
    if (!evidence.chipIdBound)
      fail(
        "CHIP_NOT_ALLOWED",
        "report.chipId",
        `a chip allowlist applies but the chip id is not bound (${evidence.signer === "vlek" ? "VLEK-signed" : "masked"})`,
      );
    else if (policy.chipAllowlist && !listed(policy.chipAllowlist))
      fail("CHIP_NOT_ALLOWED", "report.chipId", "CHIP_ID is not on the policy's allowlist");
    else if (
      manifests.some((m) => m.chipAllowlist) &&
      !manifests.some((m) => m.chipAllowlist && listed(m.chipAllowlist))
    )
      fail("CHIP_NOT_ALLOWED", "report.chipId", "CHIP_ID is not on the golden manifest's allowlist");
  }

  // TCB floors: the policy's and those of the active manifests holding the measurement.
  const reported = tcbComponents(r.reportedTcb);
  const floors: { floor: TcbComponents; from: string }[] = [];
  const own = policy.tcbFloors[evidence.product];
  if (own) floors.push({ floor: own, from: "policy" });
  for (const m of manifests) {
    const f = m.tcbFloors[evidence.product];
    if (f) floors.push({ floor: f, from: `release ${m.release}` });
  }
  for (const { floor, from } of floors) {
    if (!isBelow(reported, floor)) continue;
    for (const c of tcbComponentNames(r.reportedTcb.layout)) {
      const have = reported[c] ?? 0;
      const min = floor[c] ?? 0;
      if (have < min)
        fail(
          "TCB_BELOW_FLOOR",
          `report.reportedTcb.${c}`,
          `${c} SVN ${have} is below the ${evidence.product} floor ${min} (${from})`,
        );
    }
  }

  // Platform info.
  const pi = r.platformInfo;
  const preq = policy.platformInfo;
  const platformRules: readonly (readonly [boolean, boolean, string, string])[] = [
    [
      preq.requireAliasCheckComplete,
      !pi.aliasCheckComplete,
      "aliasCheckComplete",
      "the firmware has not completed the memory alias check",
    ],
    [preq.requireEcc, !pi.eccEnabled, "eccEnabled", "ECC memory is not enabled"],
    [preq.requireTsme, !pi.tsmeEnabled, "tsmeEnabled", "TSME is not enabled"],
    [preq.requireSmtDisabled, pi.smtEnabled, "smtEnabled", "SMT is enabled on the host"],
    [
      preq.requireCiphertextHiding,
      !pi.ciphertextHidingEnabled,
      "ciphertextHidingEnabled",
      "ciphertext hiding is not enabled",
    ],
    [preq.requireRaplDisabled, !pi.raplDisabled, "raplDisabled", "RAPL is not disabled"],
    [preq.forbidTio, pi.tioEnabled, "tioEnabled", "SEV-TIO is enabled"],
    [
      preq.forbidUnknownBits,
      pi.unknownBits !== 0n,
      "unknownBits",
      `undefined PLATFORM_INFO bits are set (0x${pi.raw.toString(16)})`,
    ],
  ];
  for (const [active, violated, name, message] of platformRules)
    if (active && violated) fail("PLATFORM_INFO", `report.platformInfo.${name}`, message);

  // Firmware.
  const cur = r.currentVersion;
  const min = policy.minFirmware;
  const ver = (v: { major: number; minor: number; build: number }) => v.major * 65536 + v.minor * 256 + v.build;
  if (min && ver(cur) < ver(min))
    fail(
      "FIRMWARE_TOO_OLD",
      "report.currentVersion",
      `firmware ${cur.major}.${cur.minor}.${cur.build} is below ${min.major}.${min.minor}.${min.build}`,
    );
  if (!policy.permitProvisionalFirmware) {
    if (r.committedTcb.raw !== r.currentTcb.raw)
      fail("FIRMWARE_TOO_OLD", "report.committedTcb", "COMMITTED_TCB differs from CURRENT_TCB (provisional firmware)");
    if (ver(r.committedVersion) !== ver(cur))
      fail(
        "FIRMWARE_TOO_OLD",
        "report.committedVersion",
        "the committed firmware version differs from the current one (provisional firmware)",
      );
  }

  if (!evidence.chipIdBound && evidence.signer === "vcek")
    warnings.push("CHIP_ID is masked: the report is not bound to a chip id");

  // Replay last: a binding is consumed only by an otherwise acceptable report.
  if (failures.length === 0 && opts.replay) {
    const key = createHash("sha256").update(r.reportData).digest("hex");
    if (!opts.replay.consume(key, opts.now))
      fail("REPORT_DATA_REPLAYED", "report.reportData", "this REPORT_DATA binding was already used (replay)");
  }
  return { failures, warnings, matches };
}
