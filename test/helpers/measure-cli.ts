/** Fixtures of the `attestctl measure snp` tests: the CLI run in-process in the vectors' folder, and their inputs. */
import { runCli } from "./cli.js";
import { VECTORS, VECTOR_DIR } from "../measurements/snp/fixtures.js";

/** Runs `attestctl measure snp <args>` in-process (default working directory: the vectors' folder). */
export const measure = (args: readonly string[], cwd = VECTOR_DIR) => runCli(["measure", "snp", ...args], cwd);
/** The arguments of vector a02 (direct boot, 4 vCPUs). */
export const A02 = VECTORS[1]?.args ?? [];
/** The AMD SEV firmware and an OVMF suffix of the vectors' inputs (relative to the vectors' folder). */
export const OVMF = "inputs/OVMF.amdsev.fd";
export const S = "inputs/ovmf_AmdSev_suffix.bin";
