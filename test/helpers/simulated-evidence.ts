/** Fixtures of the simulated-signer tests: a measurement, a REPORT_DATA, and a time inside the evidence's chain. */
import { parseCertificate } from "../../core/index.js";
import type { SimulatedEvidence } from "../../runtime/simulators/snp/platform.js";

/** One day, in ms. */
export const DAY = 86_400_000;
/** The launch measurement the simulated reports claim. */
export const measurement = "5a".repeat(48);
/** The REPORT_DATA the simulated reports carry. */
export const reportData = Buffer.alloc(64, 0x11);
/** A time inside every validity window of the evidence's chain. */
export const validAt = (ev: SimulatedEvidence) => new Date(parseCertificate(ev.vek).notBefore.getTime() + DAY);
