/**
 * How a guest obtains evidence: one interface, several providers (Linux configfs-tsm, the
 * `/dev/sev-guest` device through snpguest, the simulated signer). TEE-neutral: the bundle names
 * its TEE, so a TDX provider can return `{ tee: "tdx", ... }` beside SNP later.
 */
import {
  collateralFromCertTable,
  isAttestationError,
  REPORT_SIZE,
  type SnpCollateral,
} from "../../attestation/index.js";
import { AttesterError } from "../errors.js";

/** What a guest sends to a verifier. */
export interface SnpEvidenceBundle {
  readonly tee: "sev-snp";
  /** The raw 1184-byte report. */
  readonly report: Buffer;
  /** The extended-report certificate table, when the host provided one. */
  readonly certTable?: Buffer;
  /** Certificates found with the report (from the table or the provider's files). */
  readonly collateral: SnpCollateral;
}

/** One request for evidence. */
export interface EvidenceRequest {
  /** REPORT_DATA: exactly 64 bytes (e.g. SHA-512(nonce || key thumbprint)). */
  readonly reportData: Uint8Array;
  /** VMPL to request the report at (SNP privilege level 0-3; default 0). */
  readonly vmpl?: number;
}

/** A source of attestation evidence inside the guest. */
export interface EvidenceProvider {
  /** Short name for logs (`configfs-tsm`, `snpguest`, `simulated`). */
  readonly name: string;
  /**
   * Obtains a fresh report bound to `reportData`.
   * @throws AttesterError `EVIDENCE_UNAVAILABLE` (no interface, firmware error) or `EVIDENCE_MALFORMED`.
   */
  getEvidence(request: EvidenceRequest): Promise<SnpEvidenceBundle>;
}

/** Checks a request (caller misuse is a TypeError). */
export function checkEvidenceRequest(request: EvidenceRequest): number {
  if (!(request.reportData instanceof Uint8Array) || request.reportData.length !== 64)
    throw new TypeError("getEvidence: reportData must be exactly 64 bytes");
  const vmpl = request.vmpl ?? 0;
  if (!Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) throw new TypeError("getEvidence: vmpl must be 0-3");
  return vmpl;
}

/** Builds a bundle from a provider's raw outputs, checking the report size and the table. */
export function snpBundle(
  report: Uint8Array,
  certTable: Uint8Array | undefined,
  extra: SnpCollateral = {},
): SnpEvidenceBundle {
  if (report.length !== REPORT_SIZE)
    throw new AttesterError(
      "EVIDENCE_MALFORMED",
      `reading evidence: the report is ${report.length} bytes, expected ${REPORT_SIZE}`,
      { path: "evidence.report" },
    );
  const table = certTable && certTable.length > 0 ? Buffer.from(certTable) : undefined;
  let fromTable: SnpCollateral = {};
  try {
    if (table) fromTable = collateralFromCertTable(table);
  } catch (e) {
    if (!isAttestationError(e)) throw e;
    throw new AttesterError("EVIDENCE_MALFORMED", `reading evidence: ${e.message}`, {
      path: "evidence.certTable",
      cause: e,
    });
  }
  return {
    tee: "sev-snp",
    report: Buffer.from(report),
    ...(table ? { certTable: table } : {}),
    collateral: { ...fromTable, ...extra },
  };
}
