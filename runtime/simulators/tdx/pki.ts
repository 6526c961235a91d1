/**
 * The simulated TDX platform's PKI and collateral, in Intel's shapes so the real verifier runs unchanged: a root CA
 * named "Intel SGX Root CA", a "PCK Platform CA", a PCK leaf with the SGX extensions (PPID, TCB, PCE-ID, FMSPC, SGX
 * type), a "TCB Signing" certificate, TCB info v3 and QE identity v2 signed over their exact bytes, and the two CRLs.
 * All keys are local P-256 keys: the real Intel root is not among them, so evidence from here is refused wherever only
 * Intel's root is pinned.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign as cryptoSign } from "node:crypto";
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  buildCrl,
  ecdsaSha256Signer,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTlv,
  keyUsage,
  type NameSpec,
  OID,
  subjectKeyIdentifier,
  toPem,
} from "../../../core/index.js";
import { SGX_EXTENSION_OID } from "../../attestation/index.js";

const DAY = 86_400_000;
/** Platform facts the PCK certificate and the collateral agree on. */
export interface SimulatedTdxPlatformFacts {
  readonly fmspc: string;
  readonly pceId: string;
  readonly sgxTcb: readonly number[];
  readonly pceSvn: number;
  /** TEE_TCB_SVN the TDX module reports (16 bytes, hex). */
  readonly teeTcbSvn: string;
}

/** The simulated platform's default facts (a TDX module of major version 0: no module identity applies). */
export const SIMULATED_TDX_FACTS: SimulatedTdxPlatformFacts = {
  fmspc: "00806f050000",
  pceId: "0000",
  sgxTcb: [7, 7, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 11,
  teeTcbSvn: "03000500000000000000000000000000",
};

/** The QE's identity the collateral pins (Intel's TD QE MRSIGNER and product id). */
export const SIMULATED_QE = {
  mrSigner: "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5",
  isvProdId: 2,
  isvSvn: 4,
  attributes: "11000000000000000000000000000000",
} as const;

const name = (cn: string): NameSpec[] => [
  { oid: OID.commonName, value: cn },
  { oid: OID.organization, value: "Intel Corporation" },
  { oid: OID.locality, value: "Santa Clara" },
  { oid: OID.state, value: "CA" },
  { oid: OID.country, value: "US", type: "printable" },
];

/** Keys and certificates of the simulated PKI. */
export interface SimulatedTdxPki {
  readonly rootKey: KeyObject;
  readonly pckCaKey: KeyObject;
  readonly pckKey: KeyObject;
  readonly tcbSigningKey: KeyObject;
  readonly root: Buffer;
  readonly pckCa: Buffer;
  readonly pck: Buffer;
  readonly tcbSigning: Buffer;
  /** SHA-256 (hex) of the root's DER: what a verifier pins to trust this platform. */
  readonly rootSha256: string;
  /** PEM chain the quote carries: PCK, PCK Platform CA, root. */
  readonly pckChainPem: string;
  /** PEM TCB-Info-Issuer-Chain: TCB Signing, root. */
  readonly tcbSigningChainPem: string;
}

const p256 = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" });

function sgxExtension(f: SimulatedTdxPlatformFacts, ppid: Buffer): Buffer {
  const m = (n: string, value: Buffer) => encodeSequence(encodeOid(`${SGX_EXTENSION_OID}.${n}`), value);
  const tcb = encodeSequence(
    ...f.sgxTcb.map((svn, i) => m(`2.${i + 1}`, encodeInteger(svn))),
    m("2.17", encodeInteger(f.pceSvn)),
    m("2.18", encodeOctetString(Buffer.from(f.sgxTcb))),
  );
  return encodeSequence(
    m("1", encodeOctetString(ppid)),
    m("2", tcb),
    m("3", encodeOctetString(Buffer.from(f.pceId, "hex"))),
    m("4", encodeOctetString(Buffer.from(f.fmspc, "hex"))),
    m("5", encodeTlv(0x0a, Buffer.from([1]))),
  );
}

/**
 * Creates the PKI (fresh keys; `now` sets validity: the root 30 years, CAs 20, the PCK 7, back-dated one day).
 *
 * @example
 * const pki = createSimulatedTdxPki(SIMULATED_TDX_FACTS, new Date());
 */
export function createSimulatedTdxPki(f: SimulatedTdxPlatformFacts, now: Date): SimulatedTdxPki {
  const [root, pckCa, pck, tcb] = [p256(), p256(), p256(), p256()];
  const from = new Date(now.getTime() - DAY);
  const years = (n: number) => new Date(from.getTime() + n * 365 * DAY);
  const ca = (pub: KeyObject, issuerPub: KeyObject) => [
    { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(issuerPub) },
    { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(pub) },
    { oid: OID.keyUsage, critical: true, value: keyUsage(["keyCertSign", "cRLSign"]) },
    { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
  ];
  const rootDer = buildCertificate(
    {
      serial: 1n,
      issuer: name("Intel SGX Root CA"),
      subject: name("Intel SGX Root CA"),
      notBefore: from,
      notAfter: years(30),
      publicKey: root.publicKey,
      extensions: ca(root.publicKey, root.publicKey),
    },
    ecdsaSha256Signer(root.privateKey),
  );
  const pckCaDer = buildCertificate(
    {
      serial: 2n,
      issuer: name("Intel SGX Root CA"),
      subject: name("Intel SGX PCK Platform CA"),
      notBefore: from,
      notAfter: years(20),
      publicKey: pckCa.publicKey,
      extensions: ca(pckCa.publicKey, root.publicKey),
    },
    ecdsaSha256Signer(root.privateKey),
  );
  const ppid = createHash("sha256")
    .update(pck.publicKey.export({ type: "spki", format: "der" }))
    .digest()
    .subarray(0, 16);
  const pckDer = buildCertificate(
    {
      serial: BigInt(`0x${ppid.toString("hex")}`),
      issuer: name("Intel SGX PCK Platform CA"),
      subject: name("Intel SGX PCK Certificate"),
      notBefore: from,
      notAfter: years(7),
      publicKey: pck.publicKey,
      extensions: [
        { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(pckCa.publicKey) },
        { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(pck.publicKey) },
        { oid: OID.keyUsage, critical: true, value: keyUsage(["digitalSignature", "nonRepudiation"]) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(false) },
        { oid: SGX_EXTENSION_OID, value: sgxExtension(f, ppid) },
      ],
    },
    ecdsaSha256Signer(pckCa.privateKey),
  );
  const tcbDer = buildCertificate(
    {
      serial: 3n,
      issuer: name("Intel SGX Root CA"),
      subject: name("Intel SGX TCB Signing"),
      notBefore: from,
      notAfter: years(7),
      publicKey: tcb.publicKey,
      extensions: [
        { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(root.publicKey) },
        { oid: OID.keyUsage, critical: true, value: keyUsage(["digitalSignature", "nonRepudiation"]) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(false) },
      ],
    },
    ecdsaSha256Signer(root.privateKey),
  );
  return {
    rootKey: root.privateKey,
    pckCaKey: pckCa.privateKey,
    pckKey: pck.privateKey,
    tcbSigningKey: tcb.privateKey,
    root: rootDer,
    pckCa: pckCaDer,
    pck: pckDer,
    tcbSigning: tcbDer,
    rootSha256: createHash("sha256").update(rootDer).digest("hex"),
    pckChainPem: toPem(pckDer) + toPem(pckCaDer) + toPem(rootDer),
    tcbSigningChainPem: toPem(tcbDer) + toPem(rootDer),
  };
}

/** `{"<key>":<value>,"signature":"<r||s hex>"}`, signed over the value's exact bytes, as Intel PCS serves it. */
export function signedCollateral(key: string, value: unknown, signer: KeyObject): Buffer {
  const body = JSON.stringify(value);
  const sig = cryptoSign("sha256", Buffer.from(body), { key: signer, dsaEncoding: "ieee-p1363" }).toString("hex");
  return Buffer.from(`{"${key}":${body},"signature":"${sig}"}`);
}

/**
 * TCB info (one UpToDate level at the platform's TCB, one OutOfDate level below it), QE identity and both CRLs,
 * valid for 30 days from `now`.
 */
export function simulatedCollateral(
  pki: SimulatedTdxPki,
  f: SimulatedTdxPlatformFacts,
  now: Date,
  revoked: bigint[] = [],
) {
  const issueDate = new Date(now.getTime() - DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
  const nextUpdate = new Date(now.getTime() + 30 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
  const svns = (xs: readonly number[]) => xs.map((svn) => ({ svn }));
  const tee = [...Buffer.from(f.teeTcbSvn, "hex")];
  const level = (pce: number, status: string, advisoryIDs: string[] = []) => ({
    tcb: { sgxtcbcomponents: svns(f.sgxTcb), pcesvn: pce, tdxtcbcomponents: svns(tee) },
    tcbDate: "2024-01-01T00:00:00Z",
    tcbStatus: status,
    ...(advisoryIDs.length ? { advisoryIDs } : {}),
  });
  const tcbInfo = signedCollateral(
    "tcbInfo",
    {
      id: "TDX",
      version: 3,
      issueDate,
      nextUpdate,
      fmspc: f.fmspc,
      pceId: f.pceId,
      tcbType: 0,
      tcbEvaluationDataNumber: 17,
      tdxModule: { mrsigner: "0".repeat(96), attributes: "0000000000000000", attributesMask: "FFFFFFFFFFFFFFFF" },
      tcbLevels: [level(f.pceSvn, "UpToDate"), level(0, "OutOfDate", ["INTEL-SA-00000"])],
    },
    pki.tcbSigningKey,
  );
  const qeIdentity = signedCollateral(
    "enclaveIdentity",
    {
      id: "TD_QE",
      version: 2,
      issueDate,
      nextUpdate,
      tcbEvaluationDataNumber: 17,
      miscselect: "00000000",
      miscselectMask: "FFFFFFFF",
      attributes: SIMULATED_QE.attributes.toUpperCase(),
      attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
      mrsigner: SIMULATED_QE.mrSigner.toUpperCase(),
      isvprodid: SIMULATED_QE.isvProdId,
      tcbLevels: [{ tcb: { isvsvn: SIMULATED_QE.isvSvn }, tcbDate: "2024-01-01T00:00:00Z", tcbStatus: "UpToDate" }],
    },
    pki.tcbSigningKey,
  );
  const crl = (issuer: string, key: KeyObject) =>
    buildCrl(
      {
        issuer: name(issuer),
        thisUpdate: new Date(now.getTime() - DAY),
        nextUpdate: new Date(now.getTime() + 30 * DAY),
        revoked: revoked.map((serial) => ({ serial, date: new Date(now.getTime() - DAY) })),
      },
      ecdsaSha256Signer(key),
    );
  return {
    tcbInfo,
    qeIdentity,
    tcbSigningChain: pki.tcbSigningChainPem,
    pckCrl: crl("Intel SGX PCK Platform CA", pki.pckCaKey),
    rootCrl: crl("Intel SGX Root CA", pki.rootKey),
  };
}
