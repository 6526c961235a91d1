/**
 * Evidence for the guest client in the broker's SNP wire format (`{ report, cert_chain }`, see
 * policy/snp-verifier.ts), from the verifier's evidence providers (runtime/attestation/evidence):
 * Linux configfs-tsm, `/dev/sev-guest` through snpguest, or the simulated SNP signer.
 */
import type { EvidenceProvider as AttestationEvidenceProvider } from "../evidence/provider.js";
import type { SnpWireEvidence } from "../../kbs-protocol/index.js";
import type { KbsEvidenceProvider } from "./client.js";

/** The wire form of a report and its certificate table. */
export function snpWireEvidence(report: Uint8Array, certTable?: Uint8Array): SnpWireEvidence {
  return {
    report: Buffer.from(report).toString("base64"),
    ...(certTable && certTable.length > 0 ? { cert_chain: Buffer.from(certTable).toString("base64") } : {}),
  };
}

/**
 * A KBS evidence provider over a verifier evidence provider (`configfsTsmProvider()`,
 * `snpguestProvider()`, `simulatedProvider(...)`).
 *
 * @example const evidence = kbsEvidence(configfsTsmProvider());
 */
export function kbsEvidence(provider: AttestationEvidenceProvider): KbsEvidenceProvider {
  return {
    tee: "snp",
    async getEvidence(reportData) {
      const bundle = await provider.getEvidence({ reportData });
      return snpWireEvidence(bundle.report, bundle.certTable);
    },
  };
}
