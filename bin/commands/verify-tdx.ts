/**
 * `attestctl verify tdx --quote FILE [--at TIME] [--json]`: verifies an Intel TDX quote (v4 or v5): the quote
 * signature, the QE report signature and its binding of the attestation key, the PCK chain to the pinned Intel SGX
 * Root CA and its validity. Exit 0 accepted, 1 rejected (first stderr line `rejected: CODE: message`), 2 usage.
 */
import { resolve } from "node:path";
import {
  decodeTdAttributes,
  appraiseTdxQuote,
  isAttestationError,
  parseTdxPolicy,
  pcsTdxGetter,
  readTdxCollateralDir,
  type TdxPolicy,
  type TdxVerdict,
  verifyTdxQuote,
  type VerifiedTdxQuote,
} from "../../runtime/attestation/index.js";
import { parseStrictArgs } from "../args.js";
import { EXIT, type CliIo } from "../io.js";
import { printRejected, readInput, VerifyUsageError } from "./verify-inputs.js";

/** Usage line of `verify tdx`. */
export const TDX_USAGE =
  "       attestctl verify tdx --quote FILE [--collateral DIR | --pcs URL] [--policy FILE] [--at ISO-8601] [--json]\n";

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** The quote's claims as JSON (no report data: it may carry a session secret's hash or a nonce). */
export function tdxEvidenceToJson(v: VerifiedTdxQuote): Record<string, unknown> {
  const b = v.quote.body;
  const hex = (x: Buffer | undefined) => x?.toString("hex");
  return {
    quote: {
      version: v.quote.version,
      bodyType: v.quote.bodyType,
      mrTd: hex(b.mrTd),
      rtmrs: b.rtmrs.map((r) => hex(r)),
      mrSeam: hex(b.mrSeam),
      mrSignerSeam: hex(b.mrSignerSeam),
      seamAttributes: hex(b.seamAttributes),
      tdAttributes: { raw: hex(b.tdAttributes), ...decodeTdAttributes(b.tdAttributes) },
      xfam: hex(b.xfam),
      mrConfigId: hex(b.mrConfigId),
      mrOwner: hex(b.mrOwner),
      mrOwnerConfig: hex(b.mrOwnerConfig),
      teeTcbSvn: hex(b.teeTcbSvn),
      ...(b.teeTcbSvn2 ? { teeTcbSvn2: hex(b.teeTcbSvn2), mrServiceTd: hex(b.mrServiceTd) } : {}),
      qeVendorId: hex(v.quote.qeVendorId),
      extraBytes: v.quote.extraBytes,
    },
    pck: {
      ca: v.pckCa,
      fmspc: hex(v.pck.fmspc),
      pceId: hex(v.pck.pceId),
      pceSvn: v.pck.pceSvn,
      cpuSvn: hex(v.pck.cpuSvn),
      sgxTcbComponents: v.pck.sgxTcbComponents,
      sgxType: v.pck.sgxType,
      notAfter: v.chain.leaf.notAfter.toISOString(),
    },
    quoteSha256: v.quoteSha256,
    ...(v.collateral
      ? {
          tcb: { ...v.collateral.tcb, revocationChecked: v.collateral.revocationChecked },
        }
      : {}),
  };
}

function tcbLine(v: VerifiedTdxQuote): string[] {
  const c = v.collateral;
  if (!c) return [];
  const t = c.tcb;
  const parts = [
    `platform ${t.platform.status} ${t.platform.date.slice(0, 10)}`,
    ...(t.module ? [`module ${t.module.id} ${t.module.status}`] : []),
    `QE ${t.qe.status}`,
  ];
  return [
    `tcb: ${t.status} (${parts.join(", ")}; TCB evaluation data number ${t.tcbEvaluationDataNumber}; CRLs ${c.revocationChecked ? "checked" : "not given"})`,
    `advisories: ${t.advisoryIds.length > 0 ? t.advisoryIds.join(", ") : "none"}`,
  ];
}

function summary(v: VerifiedTdxQuote): string[] {
  const b = v.quote.body;
  const a = decodeTdAttributes(b.tdAttributes);
  return [
    `mrtd: ${b.mrTd.toString("hex")}`,
    ...b.rtmrs.map((r, i) => `rtmr${i}: ${r.toString("hex")}`),
    `mrseam: ${b.mrSeam.toString("hex")}`,
    `td attributes: 0x${b.tdAttributes.readBigUInt64LE(0).toString(16)}${a.debug ? " DEBUG" : ""}${a.septVeDisable ? " SEPT_VE_DISABLE" : ""}  xfam: 0x${b.xfam.readBigUInt64LE(0).toString(16)}`,
    `mrconfigid: ${b.mrConfigId.toString("hex")}`,
    `tee tcb svn: ${b.teeTcbSvn.toString("hex")}  pce svn: ${v.pck.pceSvn}  sgx tcb: ${v.pck.sgxTcbComponents.join(",")}`,
    `quote sha256: ${v.quoteSha256}`,
  ];
}

/** Prints a policy verdict; exit 0 when accepted. */
function appraised(verdict: TdxVerdict, json: boolean, io: CliIo): number {
  const v = verdict.evidence;
  if (json)
    io.stdout(
      `${JSON.stringify({ tee: "tdx", accepted: verdict.accepted, checked: "policy", driftClass: verdict.driftClass, driftReason: verdict.driftReason, failures: verdict.failures, warnings: verdict.warnings, ...(v ? tdxEvidenceToJson(v) : {}) }, null, 2)}\n`,
    );
  if (!verdict.accepted) {
    const [first, ...rest] = verdict.failures;
    io.stderr(
      [
        `rejected: ${first?.code}: ${first?.message}`,
        ...rest.map((f) => `  ${f.code} ${f.path}: ${f.message}`),
        `drift class: ${verdict.driftClass} (${verdict.driftReason})`,
        "",
      ].join("\n"),
    );
    return EXIT.failed;
  }
  if (!json && v)
    io.stdout(
      [
        `accepted: TDX quote v${v.quote.version}, FMSPC ${v.pck.fmspc.toString("hex")}; policy satisfied`,
        `drift class: ${verdict.driftClass} (${verdict.driftReason})`,
        ...tcbLine(v),
        ...summary(v),
        ...verdict.warnings.map((w) => `warning: ${w}`),
        "",
      ].join("\n"),
    );
  return EXIT.ok;
}

/** Runs `verify tdx` (argv after `tdx`). */
export async function runVerifyTdx(argv: readonly string[], io: CliIo, now: () => Date): Promise<number> {
  const { values, positionals } = parseStrictArgs(argv, {
    quote: { type: "string" },
    collateral: { type: "string" },
    pcs: { type: "string" },
    policy: { type: "string" },
    at: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0) throw new VerifyUsageError(`unexpected argument "${positionals[0]}"`);
  if (typeof values.quote !== "string") throw new VerifyUsageError("--quote FILE is required");
  let at = now();
  if (typeof values.at === "string") {
    if (!ISO.test(values.at) || Number.isNaN(Date.parse(values.at)))
      throw new VerifyUsageError(`--at "${values.at}" is not an ISO-8601 time`);
    at = new Date(values.at);
  }
  const quote = readInput(io.cwd, values.quote, "quote");
  let policy: TdxPolicy | undefined;
  if (typeof values.policy === "string") {
    const file = values.policy;
    try {
      policy = parseTdxPolicy(JSON.parse(readInput(io.cwd, file, "policy").toString("utf8")));
    } catch (e) {
      if (isAttestationError(e, "POLICY_INVALID")) throw new VerifyUsageError(`--policy ${file}: ${e.message}`);
      if (e instanceof SyntaxError) throw new VerifyUsageError(`--policy ${file}: not JSON`);
      throw e;
    }
  }
  const dir = typeof values.collateral === "string" ? resolve(io.cwd, values.collateral) : undefined;
  const pcs = typeof values.pcs === "string" ? values.pcs : undefined;
  if (dir && pcs) throw new VerifyUsageError("--collateral and --pcs are alternatives: give one");
  if (pcs && !/^https?:\/\/[^\s]+$/.test(pcs)) throw new VerifyUsageError(`--pcs "${pcs}" is not an http(s) URL`);
  try {
    // Collateral is named by the platform's FMSPC and PCK CA, which only the quote's (verified) chain tells.
    let collateral;
    if (dir || pcs) {
      const chain = verifyTdxQuote({ quote, now: at });
      const fmspc = chain.pck.fmspc.toString("hex");
      collateral = dir
        ? readTdxCollateralDir(dir, fmspc, chain.pckCa)
        : await pcsTdxGetter({ baseUrl: pcs! }).get(fmspc, chain.pckCa);
    }
    if (policy)
      return appraised(
        appraiseTdxQuote({ quote, now: at, policy, ...(collateral ? { collateral } : {}) }),
        values.json === true,
        io,
      );
    const v = verifyTdxQuote({ quote, now: at, ...(collateral ? { collateral } : {}) });
    if (values.json)
      io.stdout(
        `${JSON.stringify({ tee: "tdx", accepted: true, checked: v.collateral ? "collateral" : "authenticity", failures: [], ...tdxEvidenceToJson(v) }, null, 2)}\n`,
      );
    else
      io.stdout(
        [
          `accepted: TDX quote v${v.quote.version} (${v.quote.bodyType === "td15" ? "TD 1.5" : "TD 1.0"} body), PCK chain (${v.pckCa} CA) to the Intel SGX Root CA, FMSPC ${v.pck.fmspc.toString("hex")}; ${v.collateral ? "collateral verified" : "authenticity and structure only (no --collateral)"}`,
          ...tcbLine(v),
          ...summary(v),
          "",
        ].join("\n"),
      );
    return EXIT.ok;
  } catch (e) {
    if (!isAttestationError(e)) throw e;
    return printRejected(io, e, {
      json: values.json === true,
      tee: "tdx",
      checked: dir || pcs ? "collateral" : "authenticity",
      path: "quote",
    });
  }
}
