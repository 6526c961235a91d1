/**
 * Evidence for the guest client in the broker's SNP wire format (`{ report, cert_chain }`, see
 * policy/snp-verifier.ts), from the verifier's evidence providers (runtime/attestation/evidence):
 * Linux configfs-tsm, `/dev/sev-guest` through snpguest, or the simulated SNP signer.
 */
import type { SimulatedSnp } from "../../attestation/evidence/simulated.js";
import type { SimulatedReportInput } from "../../attestation/evidence/simulated-report.js";
import { simulatedProvider } from "../../attestation/evidence/simulated-provider.js";
import type { EvidenceProvider as AttestationEvidenceProvider } from "../../attestation/evidence/provider.js";
import type { SnpWireEvidence } from "../policy/snp-verifier.js";
import type { EvidenceProvider } from "./kbs-client.js";

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
export function kbsEvidence(provider: AttestationEvidenceProvider): EvidenceProvider {
  return {
    tee: "snp",
    async getEvidence(reportData) {
      const bundle = await provider.getEvidence({ reportData });
      return snpWireEvidence(bundle.report, bundle.certTable);
    },
  };
}

/**
 * Evidence from the simulated SNP signer: every report claims `input` (measurement, policy, TCB,
 * chip...) and carries the requested REPORT_DATA.
 *
 * @example
 * const sim = await SimulatedSnp.open({ dir: ".sandbox/snp" });
 * const evidence = simulatedSnpEvidence(sim, { measurement: golden.launchShapes["inference"].measurement });
 */
export function simulatedSnpEvidence(
  sim: SimulatedSnp,
  input: Omit<SimulatedReportInput, "reportData" | "vmpl">,
): EvidenceProvider {
  return kbsEvidence(simulatedProvider(sim, input));
}
