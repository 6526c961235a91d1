/** The simulated signer as an evidence provider (sandbox, dev stack, tests of relying parties). */
import { checkEvidenceRequest, snpBundle, type EvidenceProvider } from "./provider.js";
import type { SimulatedSnp } from "./simulated.js";
import type { SimulatedReportInput } from "./simulated-report.js";

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
