import { describe, expect, it } from "vitest";
import { SNP_PRODUCTS } from "../../runtime/attestation/abi/product.js";
import { AMD_CERTIFICATES, AMD_SPKI_SHA256 } from "../../runtime/attestation/verify/amd-roots.js";
import { amdTrustAnchor, anchorsFor, spkiSha256 } from "../../runtime/attestation/verify/trust.js";
import { parseCertificate } from "../../core/index.js";
import { vector } from "../helpers/snp-vectors.js";

describe("pinned AMD roots", () => {
  it.each(SNP_PRODUCTS.flatMap((p) => (["ark", "ask", "asvk"] as const).map((r) => [p, r] as const)))(
    "%s %s equals the vendored vector and its SPKI pin",
    (product, role) => {
      const vendored = vector(`amd-roots/${role}-${product.toLowerCase()}.pem`).toString("utf8");
      expect(AMD_CERTIFICATES[product][role].trim()).toBe(vendored.trim());
      const der = Buffer.from(vendored.replace(/-----[^-]+-----|\s/g, ""), "base64");
      expect(spkiSha256(parseCertificate(der))).toBe(AMD_SPKI_SHA256[product][role]);
    },
  );

  it.each(SNP_PRODUCTS)("%s anchor: ARK self-signed, ASK and ASVK present, id amd-<product>", (product) => {
    const a = amdTrustAnchor(product);
    expect([a.id, a.product, a.arkSpkiSha256, a.ask?.serial, a.asvk !== undefined]).toEqual([
      `amd-${product.toLowerCase()}`,
      product,
      AMD_SPKI_SHA256[product].ark,
      a.ask?.serial,
      true,
    ]);
  });

  it("anchorsFor maps allowedRoots ids to anchors", () => {
    expect(anchorsFor(["amd-milan", "amd-turin"]).map((a) => a.id)).toEqual(["amd-milan", "amd-turin"]);
    expect(anchorsFor([])).toEqual([]);
  });
});
