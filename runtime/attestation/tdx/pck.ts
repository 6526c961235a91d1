/**
 * The PCK certificate chain of a TDX quote: exactly three certificates (PCK leaf, "Intel SGX PCK Platform CA" or
 * "Processor CA", "Intel SGX Root CA"), the root byte-identical to a pinned one, each signed by the next with
 * ECDSA P-256 / SHA-256, all valid at `now`; and the leaf's SGX extensions (OID 1.2.840.113741.1.13.1): PPID, TCB
 * (16 SGX component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type.
 */
import { createHash } from "node:crypto";
import {
  type Certificate,
  children,
  decodeInteger,
  decodeOid,
  findExtension,
  isSignedBy,
  nameValue,
  OID,
  readOne,
  TAG,
  type Tlv,
} from "../../../core/index.js";
import { AttestationError } from "../errors.js";
import { readCertificates, readingCertificate } from "../verify/certificates.js";

/** Intel's SGX extension and its members. */
export const SGX_EXTENSION_OID = "1.2.840.113741.1.13.1";

/** What the PCK certificate says about the platform. */
export interface PckExtensions {
  readonly ppid: Buffer;
  /** SGX TCB component SVNs 1..16. */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: Buffer;
  readonly pceId: Buffer;
  readonly fmspc: Buffer;
  /** 0 standard, 1 scalable, 2 scalable with integrity. */
  readonly sgxType: number;
}

/** A verified PCK chain. */
export interface PckChain {
  readonly leaf: Certificate;
  readonly intermediate: Certificate;
  readonly root: Certificate;
  /** `platform` or `processor` (which PCK CRL applies). */
  readonly ca: "platform" | "processor";
  readonly extensions: PckExtensions;
}

const CN = { root: "Intel SGX Root CA", leaf: "Intel SGX PCK Certificate" } as const;
const INTERMEDIATES: Readonly<Record<string, "platform" | "processor">> = {
  "Intel SGX PCK Platform CA": "platform",
  "Intel SGX PCK Processor CA": "processor",
};

function bad(message: string): AttestationError {
  return new AttestationError("PCK_EXTENSIONS", `reading the PCK certificate: ${message}`, { path: "pck.extensions" });
}

function members(t: Tlv): Map<string, Tlv> {
  const out = new Map<string, Tlv>();
  for (const m of children(t)) {
    const [id, value, ...rest] = children(m);
    if (!id || !value || rest.length > 0 || id.tag !== TAG.oid)
      throw bad("an SGX extension member is not (OID, value)");
    const oid = decodeOid(id);
    if (out.has(oid)) throw bad(`${oid} appears twice`);
    out.set(oid, value);
  }
  return out;
}

function octets(m: Map<string, Tlv>, oid: string, size: number, name: string): Buffer {
  const t = m.get(oid);
  if (!t || t.tag !== TAG.octetString || t.value.length !== size) throw bad(`${name} must be ${size} bytes`);
  return t.value;
}

function smallInt(t: Tlv | undefined, name: string, tags: readonly number[] = [TAG.integer]): number {
  if (!t || !tags.includes(t.tag)) throw bad(`${name} must be an integer`);
  const n = decodeInteger({ ...t, tag: TAG.integer });
  if (n < 0n || n > 65535n) throw bad(`${name} is out of range`);
  return Number(n);
}

/** Reads the SGX extensions of a PCK leaf certificate. */
export function parsePckExtensions(leaf: Certificate): PckExtensions {
  const ext = findExtension(leaf, SGX_EXTENSION_OID);
  if (!ext) throw bad("the SGX extension is missing");
  return readingCertificate(() => {
    const m = members(readOne(ext.value, TAG.sequence));
    const tcbT = m.get(`${SGX_EXTENSION_OID}.2`);
    if (!tcbT || tcbT.tag !== TAG.sequence) throw bad("TCB is missing");
    const tcb = members(tcbT);
    const sgxTcbComponents = Array.from({ length: 16 }, (_, i) =>
      smallInt(tcb.get(`${SGX_EXTENSION_OID}.2.${i + 1}`), `TCB component ${i + 1}`),
    );
    const pceSvn = smallInt(tcb.get(`${SGX_EXTENSION_OID}.2.17`), "PCESVN");
    const cpuSvn = octets(tcb, `${SGX_EXTENSION_OID}.2.18`, 16, "CPUSVN");
    return {
      ppid: octets(m, `${SGX_EXTENSION_OID}.1`, 16, "PPID"),
      sgxTcbComponents,
      pceSvn,
      cpuSvn,
      pceId: octets(m, `${SGX_EXTENSION_OID}.3`, 2, "PCE-ID"),
      fmspc: octets(m, `${SGX_EXTENSION_OID}.4`, 6, "FMSPC"),
      sgxType: smallInt(m.get(`${SGX_EXTENSION_OID}.5`), "SGX type", [0x0a]),
    };
  });
}

function chainError(code: "CERTIFICATE_PROFILE" | "UNTRUSTED_ROOT" | "CHAIN_SIGNATURE", message: string) {
  return new AttestationError(code, `verifying the PCK chain: ${message}`, { path: "pck.chain" });
}

function isP256(cert: Certificate): boolean {
  const d = cert.publicKey.asymmetricKeyDetails;
  return cert.publicKey.asymmetricKeyType === "ec" && d?.namedCurve === "prime256v1";
}

/**
 * Verifies the chain carried by a quote against pinned roots (DER SHA-256, lower-case hex) and returns it with the
 * leaf's extensions. Validity in time is checked by the caller (`checkValidity`).
 * Codes: `CERTIFICATE_MALFORMED`, `CERTIFICATE_PROFILE`, `UNTRUSTED_ROOT`, `CHAIN_SIGNATURE`, `PCK_EXTENSIONS`.
 */
export function verifyPckChain(pem: string, pinnedRoots: ReadonlySet<string>): PckChain {
  const certs = readCertificates(pem);
  if (certs.length !== 3) throw chainError("CERTIFICATE_PROFILE", `${certs.length} certificates, not 3`);
  const [leaf, intermediate, root] = certs as [Certificate, Certificate, Certificate];
  const sha = createHash("sha256").update(root.der).digest("hex");
  if (!pinnedRoots.has(sha)) throw chainError("UNTRUSTED_ROOT", `the root (SHA-256 ${sha}) is not a pinned Intel root`);
  const cn = (c: Certificate) => nameValue(c.subject, OID.commonName) ?? "";
  const ca = INTERMEDIATES[cn(intermediate)];
  if (cn(leaf) !== CN.leaf || ca === undefined || cn(root) !== CN.root)
    throw chainError("CERTIFICATE_PROFILE", `unexpected names ${[leaf, intermediate, root].map(cn).join(" / ")}`);
  for (const [c, role] of [
    [leaf, "PCK"],
    [intermediate, "intermediate"],
    [root, "root"],
  ] as const)
    if (
      c.version !== 3 ||
      !isP256(c) ||
      c.signatureAlgorithm.kind !== "ecdsa" ||
      c.signatureAlgorithm.hash !== "sha256"
    )
      throw chainError("CERTIFICATE_PROFILE", `the ${role} certificate is not X.509 v3 ECDSA P-256 / SHA-256`);
  if (!leaf.issuerRaw.equals(intermediate.subjectRaw) || !intermediate.issuerRaw.equals(root.subjectRaw))
    throw chainError("CHAIN_SIGNATURE", "issuer names do not match the next certificate's subject");
  if (!isSignedBy(root, root.publicKey))
    throw chainError("CHAIN_SIGNATURE", "the root's self-signature does not verify");
  if (!isSignedBy(intermediate, root.publicKey))
    throw chainError("CHAIN_SIGNATURE", "the intermediate is not signed by the root");
  if (!isSignedBy(leaf, intermediate.publicKey))
    throw chainError("CHAIN_SIGNATURE", "the PCK certificate is not signed by the intermediate");
  return { leaf, intermediate, root, ca, extensions: parsePckExtensions(leaf) };
}

/** `CERTIFICATE_EXPIRED` / `CERTIFICATE_NOT_YET_VALID` unless every certificate is valid at `now`. */
export function checkValidity(certs: readonly Certificate[], now: Date, what: string): void {
  for (const c of certs) {
    const name = nameValue(c.subject, OID.commonName) ?? "a certificate";
    if (now.getTime() > c.notAfter.getTime())
      throw new AttestationError("CERTIFICATE_EXPIRED", `${what}: ${name} expired ${c.notAfter.toISOString()}`, {
        path: "pck.chain",
      });
    if (now.getTime() < c.notBefore.getTime())
      throw new AttestationError(
        "CERTIFICATE_NOT_YET_VALID",
        `${what}: ${name} is not valid before ${c.notBefore.toISOString()}`,
        { path: "pck.chain" },
      );
  }
}
