/**
 * Trust anchors: the pinned AMD roots shipped with the code, and the simulated root (sandbox/dev)
 * that a caller may add explicitly. An anchor is an ARK plus the intermediates known for it; the
 * verifier accepts a chain only when its ARK is one of the anchors given to it.
 */
import { createHash } from "node:crypto";
import { SNP_PRODUCTS, type SnpProduct } from "../abi/product.js";
import { AttestationError } from "../errors.js";
import { isSignedBy, nameValue, OID, type Certificate } from "../../../core/index.js";
import { readCertificates } from "./certificates.js";
import { AMD_CERTIFICATES, AMD_SPKI_SHA256 } from "./amd-roots.js";

/** Identifiers of trust roots, as in the stack config's `attestation.allowedRoots`. */
export const ROOT_IDS = ["amd-milan", "amd-genoa", "amd-turin", "simulated"] as const;

/** A trust root identifier. */
export type RootId = (typeof ROOT_IDS)[number];

/** A pinned ARK with the intermediates (ASK for VCEKs, ASVK for VLEKs) known for it. */
export interface TrustAnchor {
  readonly id: RootId;
  readonly product: SnpProduct;
  readonly ark: Certificate;
  /** SHA-256 of the ARK's SubjectPublicKeyInfo, lower-case hex (the pin). */
  readonly arkSpkiSha256: string;
  readonly ask: Certificate | undefined;
  readonly asvk: Certificate | undefined;
}

/** SHA-256 of a certificate's SubjectPublicKeyInfo, lower-case hex. */
export function spkiSha256(cert: Certificate): string {
  return createHash("sha256").update(cert.spki).digest("hex");
}

/** The AMD location attributes every AMD SEV certificate name carries (go-sev-guest checks the same). */
export const AMD_NAME = {
  OU: "Engineering",
  C: "US",
  L: "Santa Clara",
  ST: "CA",
  O: "Advanced Micro Devices",
} as const;

const NAME_OIDS: Readonly<Record<keyof typeof AMD_NAME | "CN", string>> = {
  OU: OID.organizationalUnit,
  C: OID.country,
  L: OID.locality,
  ST: OID.state,
  O: OID.organization,
  CN: OID.commonName,
};

/** Checks that `name` has exactly the AMD location attributes and CN `cn`, each once; returns a problem or undefined. */
export function amdNameProblem(name: Certificate["subject"], cn: string): string | undefined {
  const expected: Record<string, string> = { ...AMD_NAME, CN: cn };
  for (const [key, value] of Object.entries(expected)) {
    const oid = NAME_OIDS[key as keyof typeof NAME_OIDS];
    const found = name.filter((a) => a.oid === oid);
    if (found.length !== 1 || found[0]?.value !== value)
      return `${key} must be "${value}" exactly once (got ${found.map((a) => `"${a.value}"`).join(", ") || "none"})`;
  }
  if (name.length !== Object.keys(expected).length) return `unexpected extra name attributes`;
  return undefined;
}

function profile(message: string, path: string): AttestationError {
  return new AttestationError("CERTIFICATE_PROFILE", message, { path });
}

/** Checks an ARK: AMD names with CN `ARK-<product>`, RSA key, RSASSA-PSS SHA-384 salt 48, valid self-signature. */
export function checkArk(ark: Certificate, product: SnpProduct, path = "ark"): void {
  const p = amdNameProblem(ark.subject, `ARK-${product}`) ?? amdNameProblem(ark.issuer, `ARK-${product}`);
  if (p) throw profile(`checking ARK: ${p}`, `${path}.subject`);
  if (ark.version !== 3) throw profile("checking ARK: not an X.509 v3 certificate", `${path}.version`);
  if (ark.publicKey.asymmetricKeyType !== "rsa") throw profile("checking ARK: key is not RSA", `${path}.publicKey`);
  const alg = ark.signatureAlgorithm;
  if (alg.kind !== "rsa-pss" || alg.hash !== "sha384" || alg.saltLength !== 48)
    throw profile("checking ARK: signature is not RSASSA-PSS SHA-384 salt 48", `${path}.signatureAlgorithm`);
  if (!isSignedBy(ark, ark.publicKey))
    throw new AttestationError("CHAIN_SIGNATURE", `checking ARK-${product}: self-signature does not verify`, {
      path: `${path}.signature`,
    });
}

/**
 * Builds a trust anchor from PEM/DER certificates. The ARK is checked (names, algorithm,
 * self-signature) once here; intermediates are checked on use.
 */
export function trustAnchor(
  id: RootId,
  product: SnpProduct,
  certs: { readonly ark: Uint8Array | string; readonly ask?: Uint8Array | string; readonly asvk?: Uint8Array | string },
): TrustAnchor {
  const one = (c: Uint8Array | string, what: string): Certificate => {
    const list = readCertificates(c);
    if (list.length !== 1) throw new TypeError(`trustAnchor: ${what} must hold exactly one certificate`);
    return list[0] as Certificate;
  };
  const ark = one(certs.ark, "ark");
  checkArk(ark, product);
  return {
    id,
    product,
    ark,
    arkSpkiSha256: spkiSha256(ark),
    ask: certs.ask ? one(certs.ask, "ask") : undefined,
    asvk: certs.asvk ? one(certs.asvk, "asvk") : undefined,
  };
}

const amdCache = new Map<SnpProduct, TrustAnchor>();

/**
 * The pinned AMD anchor for a product (ARK, ASK, ASVK shipped in `amd-roots.ts`). The SPKI hashes are
 * re-checked against the pins; a mismatch means the shipped file was altered and throws.
 */
export function amdTrustAnchor(product: SnpProduct): TrustAnchor {
  const cached = amdCache.get(product);
  if (cached) return cached;
  const pems = AMD_CERTIFICATES[product];
  const anchor = trustAnchor(`amd-${product.toLowerCase()}` as RootId, product, pems);
  const pins = AMD_SPKI_SHA256[product];
  if (
    anchor.arkSpkiSha256 !== pins.ark ||
    spkiSha256(anchor.ask as Certificate) !== pins.ask ||
    spkiSha256(anchor.asvk as Certificate) !== pins.asvk
  ) {
    throw new Error(`amd-roots.ts: pinned ${product} certificates do not match their SPKI pins`);
  }
  amdCache.set(product, anchor);
  return anchor;
}

/** The pinned AMD anchors for the given products (default: Milan, Genoa, Turin). */
export function amdTrustAnchors(products: readonly SnpProduct[] = SNP_PRODUCTS): TrustAnchor[] {
  return products.map(amdTrustAnchor);
}

/**
 * The anchors a list of root ids selects (`attestation.allowedRoots`). `simulated` needs the
 * simulated anchors (from the simulated signer's directory); asking for it without them is a
 * caller error (TypeError), so a production policy can never pick up a simulated root by accident.
 */
export function anchorsFor(ids: readonly RootId[], simulated: readonly TrustAnchor[] = []): TrustAnchor[] {
  const out: TrustAnchor[] = [];
  for (const id of ids) {
    if (id === "simulated") {
      if (simulated.length === 0)
        throw new TypeError("anchorsFor: the policy trusts the simulated root but no simulated anchor was given");
      out.push(...simulated.filter((a) => a.id === "simulated"));
    } else {
      out.push(amdTrustAnchor(id === "amd-milan" ? "Milan" : id === "amd-genoa" ? "Genoa" : "Turin"));
    }
  }
  return out;
}

/** The CN an intermediate must have for a role: `SEV-<product>` (ASK) or `SEV-VLEK-<product>` (ASVK). */
export function intermediateCn(role: "vcek" | "vlek", product: SnpProduct): string {
  return role === "vcek" ? `SEV-${product}` : `SEV-VLEK-${product}`;
}

/** The subject CN of a certificate ("" when absent). */
export function commonName(cert: Certificate): string {
  return nameValue(cert.subject, OID.commonName) ?? "";
}
