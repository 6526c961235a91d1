/**
 * Known answers of RFC 9180 appendix A (base mode, mode 0) for the suites runtime/ohttp supports:
 * A.1 to A.6 (A.7 is export-only, which OHTTP cannot use). Values copied from the RFC's source text
 * (cfrg/draft-irtf-cfrg-hpke, draft-irtf-cfrg-hpke.md at commit b1f7cb0, the text published as
 * RFC 9180), sections "Base Setup Information", "Encryptions" and "Exported Values".
 */

/** One base-mode vector; every byte string is hex. */
export interface HpkeVector {
  readonly section: string;
  readonly name: string;
  readonly kemId: number;
  readonly kdfId: number;
  readonly aeadId: number;
  readonly info: string;
  readonly ikmE: string;
  readonly pkEm: string;
  readonly skEm: string;
  readonly ikmR: string;
  readonly pkRm: string;
  readonly skRm: string;
  readonly enc: string;
  /** `[sequence number, aad, ct]`; every plaintext is {@link RFC9180_PLAINTEXT}. */
  readonly encryptions: readonly (readonly [number, string, string])[];
  /** `[exporter_context, L, exported_value]`. */
  readonly exports: readonly (readonly [string, number, string])[];
}

/** The plaintext of every appendix A encryption: "Beauty is truth, truth beauty". */
import { RFC9180_NIST } from "./rfc9180-nist.js";
import { RFC9180_X25519 } from "./rfc9180-x25519.js";

export const RFC9180_PLAINTEXT = "4265617574792069732074727574682c20747275746820626561757479";

export const RFC9180_BASE_VECTORS: readonly HpkeVector[] = [...RFC9180_X25519, ...RFC9180_NIST];
