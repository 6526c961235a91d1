/** The simulated signer as an evidence provider (sandbox, dev stack, tests of relying parties). */
import {
  checkEvidenceRequest,
  kbsEvidence,
  snpBundle,
  type EvidenceProvider,
  type KbsEvidenceProvider,
} from "../../attester/index.js";
import type { SimulatedSnp } from "./platform.js";
import type { SimulatedReportInput } from "./report.js";

/**
 * Evidence from a {@link SimulatedSnp}: every report carries `defaults` (measurement, policy, TCB,
 * ...) and the requested REPORT_DATA and VMPL; the certificate table holds VEK, intermediate and ARK.
 * @example simulatedProvider(await SimulatedSnp.open({ dir }), { measurement }).getEvidence({ reportData })
 */
export function simulatedProvider(
  sim: SimulatedSnp,
  defaults: Omit<SimulatedReportInput, "reportData" | "vmpl">,
): EvidenceProvider {
  return {
    name: "simulated",
    async getEvidence(request) {
      const vmpl = checkEvidenceRequest(request);
      const ev = await sim.sign({ ...defaults, reportData: request.reportData, vmpl });
      return snpBundle(ev.report, ev.certTable);
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
): KbsEvidenceProvider {
  return kbsEvidence(simulatedProvider(sim, input));
}
