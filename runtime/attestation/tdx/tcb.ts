/**
 * The TCB status of a verified TDX quote against its (verified) collateral, the way Intel's Quote Verification
 * Library converges it (pure): the platform level from the PCK certificate's SGX TCB and PCESVN and the quote's
 * TEE_TCB_SVN; the TDX module's own level (module identity `TDX_<major>`) when the module's major version is not 0;
 * the Quoting Enclave's level from the QE identity. A module or QE that is out of date makes an up-to-date platform
 * out of date; a revoked one revokes the result. go-tdx-guest reports the module level alone in that case; we follow
 * Intel (see docs/verifier.md).
 */
import { AttestationError } from "../errors.js";
import type { IsvLevel, TcbStatus, TdQeIdentity, TdxTcbInfo } from "./collateral.js";
import type { PckExtensions } from "./pck.js";
import type { TdxQuote } from "./quote.js";

/** One evaluated level. */
export interface EvaluatedLevel {
  readonly status: TcbStatus;
  readonly date: string;
  readonly advisoryIds: readonly string[];
}

/** The TCB verdict of a quote. */
export interface TdxTcbEvaluation {
  /** Platform, module and QE statuses converged. */
  readonly status: TcbStatus;
  readonly platform: EvaluatedLevel;
  /** Absent when the TDX module's major version is 0 (no module identity applies). */
  readonly module?: EvaluatedLevel & { readonly id: string };
  readonly qe: EvaluatedLevel;
  /** Every advisory of the matched levels, sorted, without duplicates. */
  readonly advisoryIds: readonly string[];
  readonly tcbEvaluationDataNumber: number;
}

function mismatch(path: string, message: string): AttestationError {
  return new AttestationError("COLLATERAL_MISMATCH", `evaluating the TDX TCB: ${path}: ${message}`, {
    path: `collateral.${path}`,
  });
}

const masked = (value: Buffer, mask: Buffer, want: Buffer) => value.every((b, i) => (b & mask[i]!) === want[i]);

function isvLevel(levels: readonly IsvLevel[], svn: number, what: string): EvaluatedLevel {
  const l = levels.find((x) => x.isvSvn <= svn);
  if (!l)
    throw new AttestationError("TCB_LEVEL_UNKNOWN", `evaluating the TDX TCB: no ${what} level for ISVSVN ${svn}`, {
      path: `collateral.${what}`,
    });
  return { status: l.status, date: l.date, advisoryIds: l.advisoryIds };
}

/** Intel's convergence of the platform status with a module's or the QE's status. */
export function converge(platform: TcbStatus, other: TcbStatus): TcbStatus {
  if (other === "Revoked" || platform === "Revoked") return "Revoked";
  if (other !== "OutOfDate") return platform;
  if (platform === "UpToDate" || platform === "SWHardeningNeeded") return "OutOfDate";
  if (platform === "ConfigurationNeeded" || platform === "ConfigurationAndSWHardeningNeeded")
    return "OutOfDateConfigurationNeeded";
  return platform;
}

/**
 * Evaluates a quote (already verified) against collateral (already verified and current).
 * Codes: `COLLATERAL_MISMATCH` (FMSPC, PCE-ID, module signer or attributes, QE identity fields), `TCB_LEVEL_UNKNOWN`.
 *
 * @example
 * const tcb = evaluateTdxTcb(v.quote, v.pck, tcbInfo, qeIdentity); // { status: "UpToDate", advisoryIds: [], ... }
 */
export function evaluateTdxTcb(
  quote: TdxQuote,
  pck: PckExtensions,
  info: TdxTcbInfo,
  qe: TdQeIdentity,
): TdxTcbEvaluation {
  if (!info.fmspc.equals(pck.fmspc)) throw mismatch("tcbInfo.fmspc", "differs from the PCK certificate's FMSPC");
  if (!info.pceId.equals(pck.pceId)) throw mismatch("tcbInfo.pceId", "differs from the PCK certificate's PCE-ID");
  const b = quote.body;
  if (!b.mrSignerSeam.equals(info.module.mrSigner))
    throw mismatch("tcbInfo.tdxModule.mrsigner", "differs from the quote's MRSIGNERSEAM");
  if (!masked(b.seamAttributes, info.module.attributesMask, info.module.attributes))
    throw mismatch("tcbInfo.tdxModule.attributes", "SEAMATTRIBUTES do not match under the mask");
  const tee = [...b.teeTcbSvn];
  const from = tee[1]! > 0 ? 2 : 0;
  const level = info.levels.find(
    (l) =>
      l.sgx.every((svn, i) => pck.sgxTcbComponents[i]! >= svn) &&
      pck.pceSvn >= l.pceSvn &&
      l.tdx.every((svn, i) => i < from || tee[i]! >= svn),
  );
  if (!level)
    throw new AttestationError("TCB_LEVEL_UNKNOWN", "evaluating the TDX TCB: no TCB level matches this platform", {
      path: "collateral.tcbInfo.tcbLevels",
    });
  const platform: EvaluatedLevel = { status: level.status, date: level.date, advisoryIds: level.advisoryIds };
  let module: (EvaluatedLevel & { id: string }) | undefined;
  if (tee[1]! > 0) {
    const id = `TDX_${tee[1]!.toString(16).toUpperCase().padStart(2, "0")}`;
    const identity = info.moduleIdentities.find((m) => m.id === id);
    if (!identity) throw mismatch("tcbInfo.tdxModuleIdentities", `no identity ${id} for this TDX module`);
    if (!b.mrSignerSeam.equals(identity.mrSigner))
      throw mismatch(`tcbInfo.tdxModuleIdentities.${id}.mrsigner`, "differs from the quote's MRSIGNERSEAM");
    if (!masked(b.seamAttributes, identity.attributesMask, identity.attributes))
      throw mismatch(`tcbInfo.tdxModuleIdentities.${id}.attributes`, "SEAMATTRIBUTES do not match under the mask");
    module = { id, ...isvLevel(identity.levels, tee[0]!, `tdxModuleIdentities.${id}`) };
  }
  const r = quote.qeReport;
  const misc = Buffer.alloc(4);
  misc.writeUInt32LE(r.miscSelect);
  if (!masked(misc, qe.miscSelectMask, qe.miscSelect))
    throw mismatch("enclaveIdentity.miscselect", "the QE's MISCSELECT does not match under the mask");
  if (!masked(r.attributes, qe.attributesMask, qe.attributes))
    throw mismatch("enclaveIdentity.attributes", "the QE's ATTRIBUTES do not match under the mask");
  if (!r.mrSigner.equals(qe.mrSigner)) throw mismatch("enclaveIdentity.mrsigner", "differs from the QE's MRSIGNER");
  if (r.isvProdId !== qe.isvProdId) throw mismatch("enclaveIdentity.isvprodid", "differs from the QE's ISVPRODID");
  const qeLevel = isvLevel(qe.levels, r.isvSvn, "enclaveIdentity");
  const status = converge(converge(platform.status, module?.status ?? platform.status), qeLevel.status);
  const advisoryIds = [
    ...new Set([...platform.advisoryIds, ...(module?.advisoryIds ?? []), ...qeLevel.advisoryIds]),
  ].sort();
  return {
    status,
    platform,
    ...(module ? { module } : {}),
    qe: qeLevel,
    advisoryIds,
    tcbEvaluationDataNumber: Math.min(info.tcbEvaluationDataNumber, qe.tcbEvaluationDataNumber),
  };
}
