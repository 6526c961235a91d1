/**
 * Bad-input table for authenticity and structure (reference §3.1-3.2 plus our own cases): every
 * mutation of a real report or its collateral is rejected with its exact code. Policy-level cases
 * are in validate-bad-input.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { SnpProduct } from "../../runtime/attestation/abi/product.js";
import { mapGetter, type CollateralGetter } from "../../runtime/attestation/verify/collateral.js";
import { amdTrustAnchor, amdTrustAnchors, type TrustAnchor } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence, type SnpCollateral } from "../../runtime/attestation/verify/verify.js";
import { realCase, vector } from "../helpers/snp-vectors.js";

const v3 = realCase("milan-v3-vcek-oak-cb");
const v2 = realCase("milan-v2-vcek-virtee");
const vlek = realCase("vlek");
const genoa = realCase("genoa-v5-vcek-oak-oc");

interface Case {
  readonly report?: Buffer;
  readonly collateral?: SnpCollateral;
  readonly anchors?: readonly TrustAnchor[];
  readonly now?: Date;
  readonly product?: SnpProduct;
  readonly checkRevocation?: boolean;
  /** Collateral getter (default: an empty one); null for none. */
  readonly getter?: CollateralGetter | null;
  readonly base?: typeof v3;
}

function mutate(base: Buffer, f: (b: Buffer) => void): Buffer {
  const b = Buffer.from(base);
  f(b);
  return b;
}
const at = (off: number, value: number) => (b: Buffer) => {
  b[off] = value;
};
const xor = (off: number, mask: number) => (b: Buffer) => {
  b[off] = (b[off] as number) ^ mask;
};
const pemOf = (der: Buffer) =>
  Buffer.from(`-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`);
const askMilan = amdTrustAnchor("Milan").ask!.der;
const asvkMilan = amdTrustAnchor("Milan").asvk!.der;
const arkGenoa = amdTrustAnchor("Genoa").ark.der;

const CASES: readonly (readonly [string, string, Case])[] = [
  // structure (abi)
  ["truncated to 100 bytes", "REPORT_SIZE", { report: v3.report.subarray(0, 100) }],
  ["one byte short", "REPORT_SIZE", { report: v3.report.subarray(0, 1183) }],
  ["one byte extra", "REPORT_SIZE", { report: Buffer.concat([v3.report, Buffer.alloc(1)]) }],
  ["empty", "REPORT_SIZE", { report: Buffer.alloc(0) }],
  ["version 0", "REPORT_VERSION", { report: mutate(v3.report, at(0, 0)) }],
  ["version 1", "REPORT_VERSION", { report: mutate(v3.report, at(0, 1)) }],
  ["version 6", "REPORT_VERSION", { report: mutate(v3.report, at(0, 6)) }],
  ["SIGNATURE_ALGO 2", "SIGNATURE_ALGORITHM", { report: mutate(v3.report, at(0x34, 2)) }],
  ["SIGNATURE_ALGO 0", "SIGNATURE_ALGORITHM", { report: mutate(v3.report, at(0x34, 0)) }],
  ["KEY_INFO reserved bits (0x49 := 0xCC)", "KEY_INFO_RESERVED", { report: mutate(v3.report, at(0x49, 0xcc)) }],
  ["SIGNING_KEY 3 (reserved)", "KEY_INFO_RESERVED", { report: mutate(v3.report, at(0x48, 3 << 2)) }],
  ["SIGNING_KEY 7 (none)", "REPORT_UNSIGNED", { report: mutate(v3.report, at(0x48, 7 << 2)) }],
  ["MASK_CHIP_KEY set", "REPORT_UNSIGNED", { report: mutate(v3.report, at(0x48, 2)) }],
  ["POLICY bit 17 cleared", "POLICY_RESERVED", { report: mutate(v3.report, at(0x0a, 0x01)) }],
  ["POLICY bit 26 set", "POLICY_RESERVED", { report: mutate(v3.report, at(0x0b, 0x04)) }],
  ["POLICY bit 63 set", "POLICY_RESERVED", { report: mutate(v3.report, at(0x0f, 0x80)) }],
  ["reserved 0x4F", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x4f, 0xcc)) }],
  [
    "v2 reserved 0x18A (CPUID bytes are reserved in v2)",
    "RESERVED_NONZERO",
    { report: mutate(v2.report, at(0x18a, 0xcc)), base: v2 },
  ],
  ["reserved 0x19F", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x19f, 1)) }],
  ["reserved 0x1EB", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x1eb, 0xcc)) }],
  ["reserved 0x1EF", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x1ef, 0xcc)) }],
  [
    "v3 reserved 0x1F8 (mitigation vectors are v5 only)",
    "RESERVED_NONZERO",
    { report: mutate(v3.report, at(0x1f8, 1)) },
  ],
  ["reserved 0x209", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x209, 0xcc)) }],
  ["signature R byte 48 non-zero", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x2a0 + 48, 1)) }],
  ["signature S byte 71 non-zero", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x2e8 + 71, 1)) }],
  ["reserved after the signature (0x332)", "RESERVED_NONZERO", { report: mutate(v3.report, at(0x332, 0xcc)) }],
  [
    "whole signature field overwritten with 'W'",
    "RESERVED_NONZERO",
    { report: mutate(v3.report, (b) => b.fill(0x57, 0x2a0, 0x4a0)) },
  ],
  // product
  ["CPUID family 0x17 (not an SNP part)", "PRODUCT_UNKNOWN", { report: mutate(v3.report, at(0x188, 0x17)) }],
  ["v2 report, no product and no VEK", "PRODUCT_UNKNOWN", { report: v2.report, collateral: {}, base: v2 }],
  ["caller says Genoa, CPUID says Milan", "PRODUCT_MISMATCH", { product: "Genoa" }],
  ["CPUID changed to Genoa on a Milan report", "PRODUCT_MISMATCH", { report: mutate(v3.report, at(0x189, 0x11)) }],
  ["Genoa VCEK for a Milan report", "PRODUCT_MISMATCH", { collateral: { vek: genoa.vek } }],
  [
    "v2 report with the caller's product contradicting the VCEK",
    "PRODUCT_MISMATCH",
    { report: v2.report, collateral: { vek: v2.vek }, product: "Genoa", base: v2 },
  ],
  // signature
  ["FAMILY_ID bit flipped (byte 21)", "REPORT_SIGNATURE", { report: mutate(v3.report, xor(21, 0x80)) }],
  ["IMAGE_ID byte 42 + 1", "REPORT_SIGNATURE", { report: mutate(v3.report, xor(42, 1)) }],
  ["MEASUREMENT byte flipped", "REPORT_SIGNATURE", { report: mutate(v3.report, xor(0x90, 1)) }],
  ["REPORT_DATA byte flipped", "REPORT_SIGNATURE", { report: mutate(v3.report, xor(0x50, 1)) }],
  ["POLICY.DEBUG flipped on", "REPORT_SIGNATURE", { report: mutate(v3.report, xor(0x0a, 0x08)) }],
  ["VMPL changed to 1", "REPORT_SIGNATURE", { report: mutate(v3.report, at(0x30, 1)) }],
  [
    "signature R overwritten with 'W' (low 48 bytes)",
    "REPORT_SIGNATURE",
    { report: mutate(v3.report, (b) => b.fill(0x57, 0x2a0, 0x2a0 + 48)) },
  ],
  ["signature all zero", "REPORT_SIGNATURE", { report: mutate(v3.report, (b) => b.fill(0, 0x2a0, 0x4a0)) }],
  // binding
  ["REPORTED_TCB bootloader + 1 (byte 0x180)", "TCB_MISMATCH", { report: mutate(v3.report, xor(0x180, 1)) }],
  ["REPORTED_TCB microcode changed", "TCB_MISMATCH", { report: mutate(v3.report, xor(0x187, 2)) }],
  ["CHIP_ID byte flipped", "CHIP_ID_MISMATCH", { report: mutate(v3.report, xor(0x1a0, 1)) }],
  [
    "swapped VCEK: another Milan chip with the same TCB",
    "CHIP_ID_MISMATCH",
    { collateral: { vek: realCase("milan-v3-vcek-azure-evidence-v0").vek } },
  ],
  ["swapped VCEK: another chip and TCB", "TCB_MISMATCH", { collateral: { vek: v2.vek } }],
  ["KEY_INFO says VCEK, certificate is a VLEK", "SIGNER_MISMATCH", { collateral: { vek: vlek.vek }, now: vlek.now }],
  // certificates and chain
  ["VCEK DER byte 40 ^= 0xFF", "CERTIFICATE_MALFORMED", { collateral: { vek: mutate(v3.vek, xor(40, 0xff)) } }],
  [
    "VCEK DER byte 42 + 1",
    "CERTIFICATE_MALFORMED",
    { collateral: { vek: mutate(v3.vek, (b) => (b[42] = ((b[42] as number) + 1) & 0xff)) } },
  ],
  [
    "VCEK public key not on the curve",
    "CERTIFICATE_MALFORMED",
    { collateral: { vek: mutate(v3.vek, (b) => xor(b.indexOf(Buffer.from("2b81040022", "hex")) + 20, 1)(b)) } },
  ],
  [
    "VCEK validity year changed (still parses)",
    "CHAIN_SIGNATURE",
    { collateral: { vek: mutate(v3.vek, (b) => xor(b.indexOf(Buffer.from("3235303230", "hex")) + 1, 0x01)(b)) } },
  ],
  [
    "VCEK signature byte flipped",
    "CHAIN_SIGNATURE",
    { collateral: { vek: mutate(v3.vek, xor(v3.vek.length - 5, 1)) } },
  ],
  [
    "VCEK with synthetic hwID (trustee, raw)",
    "CHAIN_SIGNATURE",
    { collateral: { vek: vector("certs/bad-vcek-milan-hwid-raw-trustee.der") } },
  ],
  [
    "VCEK with synthetic hwID (trustee, DER-wrapped)",
    "CHAIN_SIGNATURE",
    { collateral: { vek: vector("certs/bad-vcek-milan-hwid-der-trustee.der") } },
  ],
  ["VCEK is garbage", "CERTIFICATE_MALFORMED", { collateral: { vek: Buffer.from("not a certificate") } }],
  [
    "VCEK PEM with two certificates",
    "CERTIFICATE_MALFORMED",
    { collateral: { vek: Buffer.concat([pemOf(v3.vek), pemOf(v3.vek)]) } },
  ],
  [
    "VCEK with trailing bytes",
    "CERTIFICATE_MALFORMED",
    { collateral: { vek: Buffer.concat([v3.vek, Buffer.alloc(1)]) } },
  ],
  [
    "ASK signature byte flipped",
    "CHAIN_SIGNATURE",
    { collateral: { vek: v3.vek, intermediate: mutate(askMilan, xor(askMilan.length - 3, 1)) } },
  ],
  [
    "ASVK in place of the ASK for a VCEK",
    "INTERMEDIATE_MISMATCH",
    { collateral: { vek: v3.vek, intermediate: asvkMilan } },
  ],
  [
    "VLEK without ASVK (ASK supplied)",
    "INTERMEDIATE_MISMATCH",
    { report: vlek.report, collateral: { vek: vlek.vek, intermediate: askMilan }, now: vlek.now, base: vlek },
  ],
  [
    "VLEK-signed report without its VLEK",
    "COLLATERAL_UNAVAILABLE",
    { report: vlek.report, collateral: {}, now: vlek.now, base: vlek },
  ],
  [
    "wrong product root: only Genoa and Turin trusted",
    "UNTRUSTED_ROOT",
    { anchors: [amdTrustAnchor("Genoa"), amdTrustAnchor("Turin")] },
  ],
  ["no trusted roots at all", "UNTRUSTED_ROOT", { anchors: [] }],
  ["presented ARK is ARK-Genoa", "UNTRUSTED_ROOT", { collateral: { vek: v3.vek, ark: arkGenoa } }],
  ["VCEK expired (one second after notAfter)", "CERTIFICATE_EXPIRED", { now: new Date("2032-02-03T18:21:47Z") }],
  ["before the ARK existed", "CERTIFICATE_NOT_YET_VALID", { now: new Date("2020-01-01T00:00:00Z") }],
  ["VCEK not yet valid", "CERTIFICATE_NOT_YET_VALID", { now: new Date("2024-01-01T00:00:00Z") }],
  [
    "VLEK after its one-year validity (2025-12-11)",
    "CERTIFICATE_EXPIRED",
    { report: vlek.report, collateral: { vek: vlek.vek }, now: new Date("2025-12-11T00:00:00Z"), base: vlek },
  ],
  // collateral
  ["no VEK and no getter", "COLLATERAL_UNAVAILABLE", { collateral: {}, getter: null }],
  ["getter without the VCEK", "COLLATERAL_UNAVAILABLE", { collateral: {}, product: "Milan" }],
  [
    "masked CHIP_ID and no VEK supplied",
    "COLLATERAL_UNAVAILABLE",
    { report: mutate(v3.report, (b) => b.fill(0, 0x1a0, 0x1e0)), collateral: {} },
  ],
  ["revocation required but no CRL anywhere", "COLLATERAL_UNAVAILABLE", { checkRevocation: true }],
  ["revocation required, no getter", "COLLATERAL_UNAVAILABLE", { checkRevocation: true, getter: null }],
  ["CRL is not a CRL", "CRL_INVALID", { collateral: { vek: v3.vek, crl: Buffer.from("garbage") } }],
];

describe("verifySnpEvidence rejects bad input with its exact code", () => {
  it("has at least 40 distinct cases", () => {
    expect(new Set(CASES.map(([name]) => name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)("%s -> %s", async (_name, code, c) => {
    const base = c.base ?? v3;
    const run = verifySnpEvidence({
      report: c.report ?? base.report,
      collateral: c.collateral ?? { vek: base.vek },
      anchors: c.anchors ?? amdTrustAnchors(),
      now: c.now ?? base.now,
      ...(c.getter === null ? {} : { getter: c.getter ?? mapGetter({}) }),
      ...(c.product ? { product: c.product } : {}),
      ...(c.checkRevocation ? { checkRevocation: true } : {}),
    });
    await expect(run).rejects.toMatchObject({ name: "AttestationError", code });
  });

  it("the unmodified bases are accepted (the table tests the mutations, not the bases)", async () => {
    for (const b of [v3, v2, vlek, genoa]) {
      await expect(
        verifySnpEvidence({ report: b.report, collateral: { vek: b.vek }, anchors: amdTrustAnchors(), now: b.now }),
      ).resolves.toMatchObject({ tee: "sev-snp" });
    }
  });
});
