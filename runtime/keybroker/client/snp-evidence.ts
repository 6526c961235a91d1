/**
 * Evidence providers for the guest client, producing the broker's SNP wire format
 * (`{ report, cert_chain }`, see policy/snp-verifier.ts): from raw report bytes and a certificate
 * table (what configfs-tsm returns as outblob/auxblob), or from the verifier's simulated SNP
 * signer (dev stack, sandbox, tests).
 */
import type { SimulatedSnp } from "../../attestation/evidence/simulated.js";
import type { SimulatedReportInput } from "../../attestation/evidence/simulated-report.js";
import type { SnpWireEvidence } from "../policy/snp-verifier.js";
import type { EvidenceProvider } from "./kbs-client.js";

/** The wire form of a report and its certificate table. */
export function snpWireEvidence(report: Uint8Array, certTable?: Uint8Array): SnpWireEvidence {
  return { report: Buffer.from(report).toString("base64"), ...(certTable && certTable.length > 0 ? { cert_chain: Buffer.from(certTable).toString("base64") } : {}) };
}

/** Any source of raw SNP reports for a given REPORT_DATA (configfs-tsm, /dev/sev-guest). */
export type RawSnpReporter = (reportData: Buffer) => Promise<{ report: Uint8Array; certTable?: Uint8Array }>;

/** An EvidenceProvider over a raw reporter. */
export function snpEvidenceProvider(reporter: RawSnpReporter): EvidenceProvider {
  return {
    tee: "snp",
    async getEvidence(reportData) {
      const { report, certTable } = await reporter(reportData);
      return snpWireEvidence(report, certTable);
    },
  };
}

/**
 * An EvidenceProvider over the simulated SNP signer: every report claims `input` (measurement,
 * policy, TCB, chip...) and carries the requested REPORT_DATA.
 *
 * @example
 * const sim = await SimulatedSnp.open({ dir: ".sandbox/snp" });
 * const evidence = simulatedSnpEvidence(sim, { measurement: golden.launchShapes["inference"].measurement });
 */
export function simulatedSnpEvidence(sim: SimulatedSnp, input: Omit<SimulatedReportInput, "reportData">): EvidenceProvider {
  return snpEvidenceProvider(async (reportData) => {
    const ev = await sim.sign({ ...input, reportData });
    return { report: ev.report, certTable: ev.certTable };
  });
}
