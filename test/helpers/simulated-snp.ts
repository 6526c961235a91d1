/**
 * A simulated SNP platform shared by test files: generating an RSA-4096 chain costs seconds, so
 * the chain is created once per product in the OS temp directory and reused (creation is atomic,
 * concurrent test processes agree on one). Each test still signs fresh reports.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SnpProduct } from "../../runtime/attestation/abi/product.js";
import { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";

/** Where the shared chains live. */
export const SIMULATED_SNP_ROOT = join(tmpdir(), "confidential-inference-test-snp-v1");

const open = new Map<SnpProduct, Promise<SimulatedSnp>>();

/** The shared simulated platform for `product` (default Genoa). */
export function sharedSimulatedSnp(product: SnpProduct = "Genoa"): Promise<SimulatedSnp> {
  let p = open.get(product);
  if (!p) {
    p = SimulatedSnp.open({ dir: join(SIMULATED_SNP_ROOT, product.toLowerCase()), product });
    open.set(product, p);
  }
  return p;
}
