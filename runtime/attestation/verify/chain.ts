/**
 * The AMD certificate chain: pinned ARK -> ASK (for VCEKs) or ASVK (for VLEKs) -> VCEK/VLEK.
 * Structure and signatures are checked once per (VEK, intermediate, anchor) and cached; validity
 * windows are checked against `now` on every call.
 */
import { createHash } from "node:crypto";
import type { SnpProduct } from "../abi/product.js";
import { AttestationError } from "../errors.js";
import { findExtension, isSignedBy, OID, type Certificate, children, readOne, TAG } from "../../../core/index.js";
import { readCertificates, readingCertificate } from "./certificates.js";
import { amdNameProblem, commonName, intermediateCn, spkiSha256, type TrustAnchor } from "./trust.js";
import { parseVekExtensions, vekRoleOf, type VekInfo } from "./vek.js";

/** A chain whose structure and signatures verified. */
export interface VerifiedChain {
  readonly anchor: TrustAnchor;
  readonly intermediate: Certificate;
  readonly vek: Certificate;
  readonly vekInfo: VekInfo;
  /** SHA-256 of the VEK DER, lower-case hex. */
  readonly vekSha256: string;
}

function bounded<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/**
 * A bounded cache of verified chains and parsed certificates, keyed by SHA-256 of the DER (least
 * recently inserted evicted first). Share one per verifier; it holds only public data.
 */
export class ChainCache {
  private readonly chains = new Map<string, VerifiedChain>();
  private readonly certs = new Map<string, Certificate>();
  /** @param maxEntries most chains (and most parsed certificates) kept; default 1024. */
  constructor(private readonly maxEntries = 1024) {}
  /** The cached chain for `key`, or undefined. */
  get(key: string): VerifiedChain | undefined {
    return this.chains.get(key);
  }
  /** Stores a verified chain. */
  set(key: string, chain: VerifiedChain): void {
    bounded(this.chains, this.maxEntries, key, chain);
  }
  /** The parsed certificate for DER bytes whose SHA-256 is `sha`, parsing (and caching) on a miss. */
  certificate(sha: string, parse: () => Certificate): Certificate {
    const hit = this.certs.get(sha);
    if (hit) return hit;
    const cert = parse();
    bounded(this.certs, this.maxEntries, sha, cert);
    return cert;
  }
  /** Number of cached chains. */
  get size(): number {
    return this.chains.size;
  }
}

/** Inputs of {@link verifyChain}. Certificates may be DER or PEM. */
export interface ChainInput {
  readonly anchors: readonly TrustAnchor[];
  readonly product: SnpProduct;
  readonly vek: Uint8Array;
  /** ASK or ASVK presented with the evidence; absent means the anchor's own. */
  readonly intermediate?: Uint8Array;
  /** ARK presented with the evidence; it must equal a trusted anchor's ARK (by public key). */
  readonly ark?: Uint8Array;
  readonly now: Date;
  readonly cache?: ChainCache;
}

function err(
  code:
    | "CERTIFICATE_PROFILE"
    | "CHAIN_SIGNATURE"
    | "INTERMEDIATE_MISMATCH"
    | "UNTRUSTED_ROOT"
    | "COLLATERAL_UNAVAILABLE"
    | "PRODUCT_MISMATCH",
  message: string,
  path: string,
): AttestationError {
  return new AttestationError(code, `verifying VEK chain: ${message}`, { path });
}

function single(bytes: Uint8Array, what: string): Certificate {
  const list = readCertificates(bytes);
  if (list.length !== 1)
    throw new AttestationError(
      "CERTIFICATE_MALFORMED",
      `verifying VEK chain: ${what} must be exactly one certificate, got ${list.length}`,
      { path: what },
    );
  return list[0] as Certificate;
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

function isPss384(c: Certificate): boolean {
  const a = c.signatureAlgorithm;
  return a.kind === "rsa-pss" && a.hash === "sha384" && a.mgf1Hash === "sha384" && a.saltLength === 48;
}

function isCa(c: Certificate): boolean {
  const bc = findExtension(c, OID.basicConstraints);
  if (!bc) return false;
  const [flag] = readingCertificate(() => children(readOne(bc.value, TAG.sequence)));
  return flag?.tag === TAG.boolean && flag.value[0] === 0xff;
}

function checkIntermediate(
  ic: Certificate,
  anchor: TrustAnchor,
  role: "vcek" | "vlek",
  product: SnpProduct,
  path: string,
): void {
  const cn = commonName(ic);
  const want = intermediateCn(role, product);
  if (cn !== want && cn === intermediateCn(role === "vcek" ? "vlek" : "vcek", product)) {
    throw err(
      "INTERMEDIATE_MISMATCH",
      `a ${role.toUpperCase()} needs intermediate ${want}, got ${cn}`,
      `${path}.subject.CN`,
    );
  }
  const p = amdNameProblem(ic.subject, want);
  if (p) throw err("CERTIFICATE_PROFILE", `intermediate subject: ${p}`, `${path}.subject`);
  if (!ic.issuerRaw.equals(anchor.ark.subjectRaw))
    throw err("CHAIN_SIGNATURE", `intermediate ${cn} is not issued by ${commonName(anchor.ark)}`, `${path}.issuer`);
  if (ic.version !== 3 || ic.publicKey.asymmetricKeyType !== "rsa" || !isPss384(ic))
    throw err(
      "CERTIFICATE_PROFILE",
      `intermediate ${cn} is not an RSA certificate signed with RSASSA-PSS SHA-384 salt 48`,
      `${path}.signatureAlgorithm`,
    );
  if (!isCa(ic))
    throw err("CERTIFICATE_PROFILE", `intermediate ${cn} is not a CA`, `${path}.extensions.basicConstraints`);
  if (!isSignedBy(ic, anchor.ark.publicKey))
    throw err(
      "CHAIN_SIGNATURE",
      `intermediate ${cn} is not signed by the trusted ${commonName(anchor.ark)} (${anchor.id})`,
      `${path}.signature`,
    );
}

function checkVek(vek: Certificate, ic: Certificate, product: SnpProduct): VekInfo {
  const role = vekRoleOf(vek);
  const cn = commonName(vek);
  if (!role)
    throw err("CERTIFICATE_PROFILE", `VEK subject CN "${cn}" is neither SEV-VCEK nor SEV-VLEK`, "vek.subject.CN");
  const p = amdNameProblem(vek.subject, cn);
  if (p) throw err("CERTIFICATE_PROFILE", `VEK subject: ${p}`, "vek.subject");
  const info = parseVekExtensions(vek);
  if (info.product !== product)
    throw err(
      "PRODUCT_MISMATCH",
      `${cn} productName "${info.productName}" is not a ${product} part`,
      "vek.extensions.productName",
    );
  if (!vek.issuerRaw.equals(ic.subjectRaw))
    throw err(
      "INTERMEDIATE_MISMATCH",
      `${cn} is issued by a different intermediate than ${commonName(ic)}`,
      "vek.issuer",
    );
  if (vek.version !== 3 || !isPss384(vek))
    throw err(
      "CERTIFICATE_PROFILE",
      `${cn} is not an X.509 v3 certificate signed with RSASSA-PSS SHA-384 salt 48`,
      "vek.signatureAlgorithm",
    );
  if (vek.publicKey.asymmetricKeyType !== "ec" || vek.publicKey.asymmetricKeyDetails?.namedCurve !== "secp384r1")
    throw err("CERTIFICATE_PROFILE", `${cn} key is not EC P-384`, "vek.publicKey");
  if (!isSignedBy(vek, ic.publicKey))
    throw err("CHAIN_SIGNATURE", `${cn} is not signed by ${commonName(ic)}`, "vek.signature");
  return info;
}

function checkValidity(c: Certificate, now: Date, path: string): void {
  if (now.getTime() < c.notBefore.getTime())
    throw new AttestationError(
      "CERTIFICATE_NOT_YET_VALID",
      `verifying VEK chain: ${commonName(c)} is not valid before ${c.notBefore.toISOString()} (now ${now.toISOString()})`,
      { path: `${path}.notBefore` },
    );
  if (now.getTime() > c.notAfter.getTime())
    throw new AttestationError(
      "CERTIFICATE_EXPIRED",
      `verifying VEK chain: ${commonName(c)} expired at ${c.notAfter.toISOString()} (now ${now.toISOString()})`,
      { path: `${path}.notAfter` },
    );
}

function load(bytes: Uint8Array, what: string, cache: ChainCache | undefined): { cert: Certificate; sha: string } {
  const sha = sha256(bytes);
  const parse = (): Certificate => single(bytes, what);
  return { cert: cache ? cache.certificate(sha, parse) : parse(), sha };
}

function verifyWithAnchor(
  anchor: TrustAnchor,
  vek: Certificate,
  vekSha: string,
  presented: { cert: Certificate; sha: string } | undefined,
  input: ChainInput,
): VerifiedChain {
  const role = vekRoleOf(vek) ?? "vcek";
  const ic = presented?.cert ?? (role === "vcek" ? anchor.ask : anchor.asvk);
  if (!ic)
    throw err(
      "COLLATERAL_UNAVAILABLE",
      `no ${role === "vcek" ? "ASK" : "ASVK"} for ${anchor.product} was supplied or pinned`,
      "intermediate",
    );
  const key = `${vekSha}:${presented?.sha ?? "anchor"}:${anchor.arkSpkiSha256}:${input.product}`;
  const hit = input.cache?.get(key);
  if (hit) return hit;
  checkIntermediate(ic, anchor, role, input.product, "intermediate");
  const vekInfo = checkVek(vek, ic, input.product);
  const chain: VerifiedChain = { anchor, intermediate: ic, vek, vekInfo, vekSha256: vekSha };
  input.cache?.set(key, chain);
  return chain;
}

/**
 * Verifies VEK -> intermediate -> pinned ARK for `product` at `now`.
 *
 * Codes: `UNTRUSTED_ROOT` (no anchor for the product, or a presented ARK that is not pinned),
 * `CERTIFICATE_MALFORMED`, `CERTIFICATE_PROFILE` (names, key type, algorithm, CA flag),
 * `INTERMEDIATE_MISMATCH` (ASK where an ASVK is needed and vice versa, or a VEK issued by another
 * intermediate), `CHAIN_SIGNATURE`, `VEK_EXTENSIONS`, `PRODUCT_MISMATCH`, `CERTIFICATE_EXPIRED`,
 * `CERTIFICATE_NOT_YET_VALID`, `COLLATERAL_UNAVAILABLE` (no intermediate anywhere).
 */
export function verifyChain(input: ChainInput): VerifiedChain {
  let candidates = input.anchors.filter((a) => a.product === input.product);
  if (candidates.length === 0)
    throw err(
      "UNTRUSTED_ROOT",
      `no trusted root for ${input.product} (trusted: ${input.anchors.map((a) => `${a.id}/${a.product}`).join(", ") || "none"})`,
      "ark",
    );
  if (input.ark) {
    const ark = load(input.ark, "ark", input.cache).cert;
    const pin = spkiSha256(ark);
    candidates = candidates.filter((a) => a.arkSpkiSha256 === pin);
    if (candidates.length === 0)
      throw err("UNTRUSTED_ROOT", `the presented ${commonName(ark) || "ARK"} is not a pinned root`, "ark");
  }
  const { cert: vek, sha: vekSha } = load(input.vek, "vek", input.cache);
  const presented = input.intermediate ? load(input.intermediate, "intermediate", input.cache) : undefined;
  let first: unknown;
  for (const anchor of candidates) {
    try {
      const chain = verifyWithAnchor(anchor, vek, vekSha, presented, input);
      checkValidity(anchor.ark, input.now, "ark");
      checkValidity(chain.intermediate, input.now, "intermediate");
      checkValidity(chain.vek, input.now, "vek");
      return chain;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
