/**
 * `attestctl verify snp`: verifies an AMD SEV-SNP attestation report (DESIGN.md "Contracts").
 * Exit 0 accepted, 1 rejected (first stderr line `rejected: CODE: message`), 2 usage. Without
 * `--policy` it checks authenticity and structure only and prints the claims; with it, it also
 * validates the policy and prints the drift class. `--json` prints the full verdict on stdout.
 */
import {
  isSnpProduct,
  SNP_PRODUCTS,
  appraiseSnpEvidence,
  type SnpVerdict,
  isAttestationError,
  evidenceToJson,
  verdictToJson,
  amdTrustAnchors,
  anchorsFor,
  verifySnpEvidence,
  type SnpCollateral,
  type VerifiedSnpEvidence,
} from "../../runtime/attestation/index.js";
import { parseStrictArgs } from "../args.js";
import { EXIT, type CliIo, type Command } from "../io.js";
import { runVerifyTdx, TDX_USAGE } from "./verify-tdx.js";
import {
  collateralGetter,
  readCertsDir,
  readInput,
  printRejected,
  readPolicy,
  simulatedAnchorFrom,
  VerifyUsageError,
} from "./verify-inputs.js";

const USAGE = `usage: attestctl verify snp --report FILE [--vcek FILE] [--certs DIR] [--product ${SNP_PRODUCTS.join("|")}]
                            [--policy FILE] [--at ISO-8601] [--json]
${TDX_USAGE}`;

/** The `--help` text. */
export function verifyHelp(): string {
  return [
    USAGE,
    "Verify an AMD SEV-SNP attestation report: structure, signature, certificate chain to the pinned AMD",
    "roots, TCB and chip binding; with --policy also the policy (measurements, TCB floors, debug, VMPL, ...).",
    "",
    "options:",
    "  --report FILE    the raw 1184-byte report",
    "  --vcek FILE      the VCEK or VLEK certificate (DER or PEM)",
    "  --certs DIR      certificates as AMD tooling writes them: ark.pem, ask.pem|asvk.pem, vcek.der|vcek.pem|vlek.der|vlek.pem",
    "  --product NAME   product line (needed for v2 reports when the VCEK must be fetched)",
    "  --policy FILE    appraisal policy (JSON); without it only authenticity and structure are checked",
    "  --at TIME        verify as of this ISO-8601 time (default: now)",
    "  --json           print the full verdict and claims as JSON",
    "",
    "Missing certificates are fetched from AMD KDS, or from the offline KDS directory in $ATTESTCTL_KDS_DIR.",
    "",
    "verify tdx: an Intel TDX quote (v4 or v5, TD 1.0 or 1.5 body): the quote signature by the attestation key, the",
    "QE report signature by the PCK key and its binding of the attestation key, the PCK chain to the pinned Intel SGX",
    "Root CA and its validity at --at. Prints MRTD, RTMRs, MRSEAM, TD attributes and the PCK's TCB (not report data).",
    "  --quote FILE     the raw quote (padding after the signature data is allowed)",
    "  --collateral DIR Intel PCS collateral: tcbinfo-<fmspc>.json, qe-identity.json, tcb-signing-chain.pem, and",
    "                   optionally pck-crl-<platform|processor>.der and root-ca-crl.der; adds the TCB level (Intel's",
    "                   convergence of platform, TDX module and QE status) with its advisories",
    "  --pcs URL        fetch the same collateral from Intel PCS (https://api.trustedservices.intel.com) or a PCCS",
    "  --policy FILE    TDX policy (JSON: mrTd, rtmrs, mrConfigId, mrSeam, allowDebug, xfam, minTeeTcbSvn,",
    "                   tcbStatuses, requireCollateral); prints the drift class",
    "Exit status: 0 accepted, 1 rejected, 2 usage error.",
    "",
  ].join("\n");
}

interface Args {
  readonly report: string;
  readonly vcek?: string;
  readonly certs?: string;
  readonly product?: (typeof SNP_PRODUCTS)[number];
  readonly policy?: string;
  readonly at: Date;
  readonly json: boolean;
}

function parse(argv: readonly string[], now: () => Date): Args | "help" {
  const { values, positionals } = parseStrictArgs(argv, {
    report: { type: "string" },
    vcek: { type: "string" },
    certs: { type: "string" },
    product: { type: "string" },
    policy: { type: "string" },
    at: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  if (positionals[0] !== "snp" || positionals.length !== 1)
    throw new VerifyUsageError(
      positionals.length === 0
        ? "missing the evidence type (snp or tdx)"
        : `unknown evidence type "${positionals.join(" ")}" (supported: snp, tdx)`,
    );
  if (typeof values.report !== "string") throw new VerifyUsageError("--report FILE is required");
  const product = values.product as string | undefined;
  if (product !== undefined && !isSnpProduct(product))
    throw new VerifyUsageError(`--product must be one of ${SNP_PRODUCTS.join(", ")}`);
  let at = now();
  if (typeof values.at === "string") {
    if (
      !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(values.at) ||
      Number.isNaN(Date.parse(values.at))
    )
      throw new VerifyUsageError(`--at "${values.at}" is not an ISO-8601 time`);
    at = new Date(values.at);
  }
  return {
    report: values.report,
    vcek: values.vcek as string | undefined,
    certs: values.certs as string | undefined,
    product,
    policy: values.policy as string | undefined,
    at,
    json: values.json === true,
  };
}

function summary(e: VerifiedSnpEvidence): string[] {
  const t = e.claims.reportedTcb;
  const r = e.report;
  return [
    `measurement: ${e.claims.measurement}`,
    `reported TCB: bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode}${t.fmc === undefined ? "" : ` fmc=${t.fmc}`}`,
    `chip id: ${e.chipIdBound ? e.claims.chipId : `not bound (${e.signer === "vlek" ? "VLEK" : "masked"})`}`,
    `guest policy: 0x${r.policy.raw.toString(16)}${r.policy.debug ? " DEBUG" : ""}${r.policy.migrateMa ? " MIGRATE_MA" : ""}${r.policy.smt ? " SMT" : ""}  vmpl: ${r.vmpl}  guest svn: ${r.guestSvn}`,
    `host data: ${r.hostData.toString("hex")}`,
    `platform info: 0x${r.platformInfo.raw.toString(16)}  firmware: ${r.currentVersion.major}.${r.currentVersion.minor}.${r.currentVersion.build}`,
    `report sha256: ${e.reportSha256}`,
  ];
}

async function runSnp(args: Args, io: CliIo): Promise<number> {
  const report = readInput(io.cwd, args.report, "report");
  let collateral: SnpCollateral = args.certs ? readCertsDir(io.cwd, args.certs) : {};
  if (args.vcek) collateral = { ...collateral, vek: readInput(io.cwd, args.vcek, "VCEK") };
  const policy = args.policy ? readPolicy(io.cwd, args.policy) : undefined;
  const simulated = policy?.allowedRoots.includes("simulated")
    ? simulatedAnchorFrom(collateral, args.certs, io.cwd)
    : undefined;
  if (policy?.allowedRoots.includes("simulated") && !simulated)
    throw new VerifyUsageError(
      "the policy trusts the simulated root: give its certificates with --certs DIR (ark.pem)",
    );
  const anchors = policy ? anchorsFor(policy.allowedRoots, simulated ? [simulated] : []) : amdTrustAnchors();
  const base = {
    report,
    collateral,
    anchors,
    now: args.at,
    getter: collateralGetter(io.env, io.cwd),
    ...(args.product ? { product: args.product } : {}),
  };
  if (!policy) {
    try {
      const e = await verifySnpEvidence(base);
      if (args.json)
        io.stdout(
          `${JSON.stringify({ tee: "sev-snp", accepted: true, checked: "authenticity", failures: [], ...evidenceToJson(e) }, null, 2)}\n`,
        );
      else
        io.stdout(
          [
            `accepted: SEV-SNP report v${e.report.version}, ${e.product}, signed by ${e.signer.toUpperCase()} (${e.vek.productName}), root ${e.rootId}; authenticity and structure only (no --policy)`,
            ...summary(e),
            "",
          ].join("\n"),
        );
      return EXIT.ok;
    } catch (e) {
      if (!isAttestationError(e)) throw e;
      return printRejected(io, e, { json: args.json, tee: "sev-snp", checked: "authenticity", path: "report" });
    }
  }
  const verdict: SnpVerdict = await appraiseSnpEvidence({ ...base, policy });
  if (args.json) io.stdout(`${JSON.stringify(verdictToJson(verdict), null, 2)}\n`);
  if (!verdict.accepted) {
    const [first, ...rest] = verdict.failures;
    io.stderr(
      [
        `rejected: ${first?.code}: ${first?.message}`,
        ...rest.map((f) => `  ${f.code} ${f.path}: ${f.message}`),
        "",
      ].join("\n"),
    );
    return EXIT.failed;
  }
  if (!args.json) {
    const e = verdict.evidence as VerifiedSnpEvidence;
    io.stdout(
      [
        `accepted: SEV-SNP report v${e.report.version}, ${e.product}, signed by ${e.signer.toUpperCase()} (${e.vek.productName}), root ${e.rootId}; policy satisfied`,
        `drift class: ${verdict.driftClass} (${verdict.driftReason})`,
        ...summary(e),
        ...verdict.warnings.map((w) => `warning: ${w}`),
        "",
      ].join("\n"),
    );
  }
  return EXIT.ok;
}

/** The `verify` subcommand. */
export const command: Command = {
  name: "verify",
  summary: "verify attestation evidence (signature, certificate chain, policy)",
  async run(argv, io) {
    try {
      if (argv[0] === "tdx" && !argv.includes("--help") && !argv.includes("-h"))
        return await runVerifyTdx(argv.slice(1), io, () => new Date());
      const args = parse(argv, () => new Date());
      if (args === "help") {
        io.stdout(verifyHelp());
        return EXIT.ok;
      }
      return await runSnp(args, io);
    } catch (e) {
      if (e instanceof VerifyUsageError) {
        io.stderr(`attestctl verify: ${e.message}\n${USAGE}`);
        return EXIT.usage;
      }
      throw e;
    }
  },
};
