/**
 * SEV-SNP product lines and how a report names them. Reports v3+ carry CPUID family/model/stepping
 * (ATTESTATION_REPORT 0x188-0x18A); v2 reports do not, so the caller or the VCEK issuer must say.
 */

/** Product lines with published AMD roots. */
export const SNP_PRODUCTS = ["Milan", "Genoa", "Turin"] as const;

/** An SEV-SNP product line (the `<Product>` element of AMD KDS URLs). */
export type SnpProduct = (typeof SNP_PRODUCTS)[number];

/** True when `s` names a product line (case-sensitive, as in KDS URLs). */
export function isSnpProduct(s: string): s is SnpProduct {
  return (SNP_PRODUCTS as readonly string[]).includes(s);
}

/** CPUID identification as carried by reports v3+. */
export interface CpuId {
  /** Extended family + family (0x19 Zen 3/4, 0x1A Zen 5). */
  readonly family: number;
  /** (Extended model << 4) + model. */
  readonly model: number;
  readonly stepping: number;
}

/**
 * Product line from CPUID, by model ranges (as snpguest and trustee do; go-sev-guest's exact table
 * misses Genoa-class model 0xA0). Undefined when the family/model is not a known SNP part.
 */
export function productFromCpuId(id: CpuId): SnpProduct | undefined {
  if (id.family === 0x19) {
    if (id.model <= 0x0f) return "Milan";
    if ((id.model >= 0x10 && id.model <= 0x1f) || (id.model >= 0xa0 && id.model <= 0xaf)) return "Genoa";
  }
  if (id.family === 0x1a && id.model <= 0x11) return "Turin";
  return undefined;
}

/**
 * Product line from a VCEK/VLEK `productName` extension (`Milan-B0`, `Genoa`, `Turin`, VLEK `Milan`):
 * the part before an optional `-<stepping>` suffix.
 */
export function productFromProductName(name: string): SnpProduct | undefined {
  const line = name.split("-")[0] ?? "";
  return isSnpProduct(line) ? line : undefined;
}
