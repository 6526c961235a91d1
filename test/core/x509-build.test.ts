/**
 * The X.509 builder, known answers for both former callers' use cases:
 *
 * - AMD's shape (RSASSA-PSS SHA-384 issuer, the simulated SNP platform's certificates and CRLs): the
 *   builder re-encodes real AMD VCEK/VLEK certificates (test/vectors) into their exact TBSCertificate
 *   bytes, and gives pinned TBS bytes for the simulated ARK/ASK shapes and for a CRL;
 * - the key broker's P-384 CA and TLS profiles (HSM-style raw r||s signer): pinned bytes of whole
 *   certificates for fixed keys, serials and times with a deterministic stand-in signer, and every field
 *   read back by node's X509Certificate for a real signature.
 *
 * The pins were recorded from the two builders the project had before they were merged (the simulated
 * platform's RSASSA-PSS `buildCertificate`/`buildCrl` and the key broker's `hsm-build.ts`, commit
 * "test/core: known answers ..." ran this file against them), so the merged builder is byte-for-byte
 * the same for both callers. Only the section "how each use case is built" changed with the merge.
 */
import {
  constants,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  buildCrl,
  children,
  crlDistributionPoint,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  keyUsage,
  OID,
  parseCertificates,
  readOne,
  rsaPssSha384Signer,
  spkiFromPoint,
  subjectKeyIdentifier,
  type Certificate,
  type CertificateSpec,
  type CrlSpec,
  type EcProfileRequest,
  type NameSpec,
} from "../../core/index.js";
import { vector } from "../helpers/snp-vectors.js";

// Pins recorded from the builders before the merge (see the file comment).
const ARK_TBS_SHA256 = "15b6bb2deb11118f29ee5075eba6c09bef49de3fea119e3717caede069869646";
const ASK_TBS_SHA256 = "cfe0aaf381871d8739ce66c704054a84398b173f4dc4507e751c5171e2c2e5f7";
const CRL_TBS_SHA256 = "4dfc5e36a314869876aaf569f75741f204503d2419ddb977761b4e3bf447082c";
const CA_DER_SHA256 = "dc3145c09ca121a736ff1d9e40998dfca3f8a8d4ed74f84634b859e248d776fe";
const TLS_DER_SHA256 = "e858982bdb42f960d1cf2e82f01843f28536946ed65b13ecd6464e271e792ed0";
const TLS_PLAIN_DER_SHA256 = "b4afabaf392a492f9e0a13efba0db4f7e51de10d4be88c1eb71b49d6f87536c9";

// ---- how each use case is built (the only part that changes with the builder's API) ----

/** A throwaway RSA issuer key: RSASSA-PSS signatures are randomised, so only the TBS is pinned. */
const rsaIssuer = generateKeyPairSync("rsa", { modulusLength: 2048 });

function amdCertificate(spec: CertificateSpec): Buffer {
  return buildCertificate(spec, rsaPssSha384Signer(rsaIssuer.privateKey));
}

function amdCrl(spec: CrlSpec): Buffer {
  return buildCrl(spec, rsaPssSha384Signer(rsaIssuer.privateKey));
}

type EcRequest = EcProfileRequest;

function ecCertificate(req: EcRequest, signRaw: (tbs: Buffer) => Buffer): Buffer {
  return buildCertificate(ecProfileSpec(req), ecdsaSha384RawSigner(signRaw));
}

// ---- fixtures ----

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const tbsOf = (certOrCrl: Buffer): Buffer => (children(readOne(certOrCrl))[0] as { raw: Buffer }).raw;

/** A P-384 key pair from a fixed private scalar (so the pinned bytes are reproducible). */
function p384(seed: string): { readonly privateKey: KeyObject; readonly point: Buffer } {
  const d = createHash("sha384").update(seed).digest();
  const ecdh = createECDH("secp384r1");
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const privateKey = createPrivateKey({
    key: {
      kty: "EC",
      crv: "P-384",
      d: d.toString("base64url"),
      x: point.subarray(1, 49).toString("base64url"),
      y: point.subarray(49).toString("base64url"),
    },
    format: "jwk",
  });
  return { privateKey, point };
}

/** A deterministic stand-in for the HSM's CKM_ECDSA (raw r||s, 96 bytes); not a valid signature. */
const fakeRawSigner = (tbs: Buffer): Buffer => {
  const h = createHash("sha384").update(tbs).digest();
  return Buffer.concat([h, createHash("sha384").update(h).digest()]);
};

/** The names of a parsed certificate as name specs, keeping each value's string type. */
function namesOf(raw: Buffer, attrs: Certificate["issuer"]): NameSpec[] {
  const types = children(readOne(raw)).map((rdn) => {
    const atv = children(rdn)[0] as { raw: Buffer };
    return (children(readOne(atv.raw))[1] as { tag: number }).tag;
  });
  return attrs.map((a, i) => ({ oid: a.oid, value: a.value, type: types[i] === 0x13 ? "printable" : "utf8" }));
}

const amdRoot = (file: string): Certificate => parseCertificates(vector(`amd-roots/${file}`))[0] as Certificate;
const AMD_NAME = (cn: string): NameSpec[] => [
  { oid: OID.organizationalUnit, value: "Engineering" },
  { oid: OID.country, value: "US", type: "printable" },
  { oid: OID.locality, value: "Santa Clara" },
  { oid: OID.state, value: "CA" },
  { oid: OID.organization, value: "Advanced Micro Devices" },
  { oid: OID.commonName, value: cn },
];
const NOT_BEFORE = new Date("2026-01-02T03:04:05Z");
const NOT_AFTER = new Date("2051-01-02T03:04:05Z");

function verifiesPss(der: Buffer): boolean {
  const [tbs, , sig] = children(readOne(der)) as [{ raw: Buffer }, unknown, { value: Buffer }];
  return verify(
    "sha384",
    tbs.raw,
    { key: rsaIssuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
    sig.value.subarray(1),
  );
}

describe("X.509 builder: AMD's shape (simulated SNP platform)", () => {
  it.each([["vcek-genoa-azure.der"], ["vcek-turin-virtee.der"], ["vlek-milan-trustee-test-vlek.der"]])(
    "re-encodes the real AMD certificate %s into its exact TBSCertificate",
    (file) => {
      const amd = parseCertificates(vector(`certs/${file}`))[0] as Certificate;
      const der = amdCertificate({
        serial: amd.serial,
        issuer: namesOf(amd.issuerRaw, amd.issuer),
        subject: namesOf(amd.subjectRaw, amd.subject),
        notBefore: amd.notBefore,
        notAfter: amd.notAfter,
        publicKey: amd.publicKey,
        extensions: amd.extensions.map((e) => ({ oid: e.oid, critical: e.critical, value: e.value })),
      });
      expect(tbsOf(der).equals(amd.tbs)).toBe(true);
      expect(verifiesPss(der)).toBe(true);
    },
  );

  it("builds the simulated ARK and ASK shapes with pinned TBS bytes (keys: AMD's Milan ARK and ASK)", () => {
    const ark = amdRoot("ark-milan.pem").publicKey;
    const ask = amdRoot("ask-milan.pem").publicKey;
    const crl = "https://kdsintf.amd.com/vcek/v1/Milan/crl";
    const arkDer = amdCertificate({
      serial: 0x0123456789ab0000n,
      issuer: AMD_NAME("ARK-Milan"),
      subject: AMD_NAME("ARK-Milan"),
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      publicKey: ark,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage(["keyCertSign", "cRLSign"]) },
        { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(ark) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true) },
        { oid: OID.crlDistributionPoints, value: crlDistributionPoint(crl) },
      ],
    });
    const askDer = amdCertificate({
      serial: 0x0123456789ab0001n,
      issuer: AMD_NAME("ARK-Milan"),
      subject: AMD_NAME("SEV-Milan"),
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      publicKey: ask,
      extensions: [
        { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(ask) },
        { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(ark) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
        { oid: OID.keyUsage, critical: true, value: keyUsage(["keyCertSign"]) },
        { oid: OID.crlDistributionPoints, value: crlDistributionPoint(crl) },
      ],
    });
    expect([sha256(tbsOf(arkDer)), sha256(tbsOf(askDer))]).toEqual([ARK_TBS_SHA256, ASK_TBS_SHA256]);
    expect([verifiesPss(arkDer), verifiesPss(askDer)]).toEqual([true, true]);
    const x = new X509Certificate(askDer);
    expect([x.subject, x.issuer, x.serialNumber, x.validFrom, x.validTo, x.ca]).toEqual([
      "OU=Engineering\nC=US\nL=Santa Clara\nST=CA\nO=Advanced Micro Devices\nCN=SEV-Milan",
      "OU=Engineering\nC=US\nL=Santa Clara\nST=CA\nO=Advanced Micro Devices\nCN=ARK-Milan",
      "0123456789AB0001",
      "Jan  2 03:04:05 2026 GMT",
      "Jan  2 03:04:05 2051 GMT",
      true,
    ]);
  });

  it("builds a v2 CRL with pinned TBS bytes", () => {
    const der = amdCrl({
      issuer: AMD_NAME("ARK-Milan"),
      thisUpdate: NOT_BEFORE,
      nextUpdate: new Date("2026-01-09T03:04:05Z"),
      revoked: [
        { serial: 0x0123456789ab0001n, date: NOT_BEFORE },
        { serial: 0xffn, date: new Date("2050-06-01T00:00:00Z") },
      ],
    });
    expect(sha256(tbsOf(der))).toBe(CRL_TBS_SHA256);
    expect(verifiesPss(der)).toBe(true);
  });
});

describe("X.509 builder: the key broker's P-384 CA and TLS profiles (HSM signer)", () => {
  const ca = p384("broker CA");
  const leaf = p384("runtime");
  const caDn = { commonName: "confidential-inference broker CA v1", organization: "confidential-inference" };
  const caRequest: EcRequest = {
    serial: Buffer.from("00c0ffee", "hex"),
    issuer: caDn,
    subject: caDn,
    notBefore: NOT_BEFORE,
    notAfter: new Date("2036-01-02T03:04:05Z"),
    subjectPoint: ca.point,
    issuerPoint: ca.point,
    profile: "ca",
  };
  const tlsRequest: EcRequest = {
    serial: Buffer.from("8f0102030405060708090a0b0c0d0e0f", "hex"),
    issuer: caDn,
    subject: { commonName: "inference runtime 2026.11.0", organization: "confidential-inference" },
    notBefore: NOT_BEFORE,
    notAfter: new Date("2026-01-02T03:19:05Z"),
    subjectPoint: leaf.point,
    issuerPoint: ca.point,
    profile: "tls",
    altNames: { dns: ["runtime.local", "localhost"], ip: ["127.0.0.1", "fd00::1"], uri: ["urn:ci:release:r1"] },
  };

  it.each([
    ["CA", caRequest, CA_DER_SHA256],
    ["TLS with alternative names", tlsRequest, TLS_DER_SHA256],
    ["TLS without alternative names", { ...tlsRequest, altNames: undefined }, TLS_PLAIN_DER_SHA256],
  ])("%s: pinned bytes for a fixed key, serial and time", (_name, req, pin) => {
    expect(sha256(ecCertificate(req, fakeRawSigner))).toBe(pin);
  });

  it("every field reads back through node's X509Certificate, and the signature verifies", () => {
    const signRaw = (tbs: Buffer) => sign("sha384", tbs, { key: ca.privateKey, dsaEncoding: "ieee-p1363" });
    const caCert = new X509Certificate(ecCertificate(caRequest, signRaw));
    const tls = new X509Certificate(ecCertificate(tlsRequest, signRaw));
    expect([caCert.subject, caCert.serialNumber, caCert.ca, caCert.verify(createPublicKey(ca.privateKey))]).toEqual([
      "O=confidential-inference\nCN=confidential-inference broker CA v1",
      "C0FFEE",
      true,
      true,
    ]);
    expect([
      tls.subject,
      tls.issuer,
      tls.serialNumber,
      tls.validFrom,
      tls.validTo,
      tls.ca,
      tls.keyUsage,
      tls.subjectAltName,
      tls.checkIssued(caCert),
      tls.verify(caCert.publicKey),
      tls.publicKey.export({ type: "spki", format: "der" }).equals(spkiFromPoint(leaf.point)),
    ]).toEqual([
      "O=confidential-inference\nCN=inference runtime 2026.11.0",
      "O=confidential-inference\nCN=confidential-inference broker CA v1",
      "8F0102030405060708090A0B0C0D0E0F",
      "Jan  2 03:04:05 2026 GMT",
      "Jan  2 03:19:05 2026 GMT",
      false,
      ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
      "DNS:runtime.local, DNS:localhost, URI:urn:ci:release:r1, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1",
      true,
      true,
      true,
    ]);
  });
});
