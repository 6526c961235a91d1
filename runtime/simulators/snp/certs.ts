/**
 * Certificate templates of the simulated SNP signer, in the exact shapes AMD KDS issues (names,
 * extensions and their order, RSASSA-PSS parameters, VCEK serial 0, 7-year VCEK validity back-dated
 * one day, hwID as raw bytes), so the real verifier code runs unchanged on simulated evidence.
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from "node:crypto";
import type { TcbComponents } from "../../../measurements/drift/index.js";
import { type SnpProduct, AMD_OID } from "../../attestation/index.js";
import {
  OID,
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  crlDistributionPoint,
  encodeExplicit,
  encodeIa5String,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  keyUsage,
  rsaPssSha384Signer,
  subjectKeyIdentifier,
  type NameSpec,
} from "../../../core/index.js";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/** productName AMD writes into VCEKs of each line. */
export const SIMULATED_PRODUCT_NAME: Readonly<Record<SnpProduct, string>> = {
  Milan: "Milan-B0",
  Genoa: "Genoa",
  Turin: "Turin",
};

/** An AMD-style name: OU, C, L, ST, O, CN, one RDN each. */
export function amdName(cn: string): NameSpec[] {
  return [
    { oid: OID.organizationalUnit, value: "Engineering" },
    { oid: OID.country, value: "US", type: "printable" },
    { oid: OID.locality, value: "Santa Clara" },
    { oid: OID.state, value: "CA" },
    { oid: OID.organization, value: "Advanced Micro Devices" },
    { oid: OID.commonName, value: cn },
  ];
}

/** Keys of a simulated root of trust. */
export interface SimulatedRootKeys {
  readonly ark: KeyObject;
  readonly ask: KeyObject;
  readonly asvk: KeyObject;
}

/** Builds ARK, ASK and ASVK certificates (DER) valid for 25 years from `notBefore`. */
export function buildSimulatedRoots(
  product: SnpProduct,
  keys: SimulatedRootKeys,
  notBefore: Date,
  serialBase: bigint,
): { ark: Buffer; ask: Buffer; asvk: Buffer } {
  const notAfter = new Date(notBefore.getTime() + 25 * YEAR_MS);
  const arkName = amdName(`ARK-${product}`);
  const pub = (k: KeyObject) => (k.type === "private" ? createPublicKey(k) : k);
  const crl = (chain: "vcek" | "vlek") => `https://kdsintf.amd.com/${chain}/v1/${product}/crl`;
  const ark = buildCertificate(
    {
      serial: serialBase,
      issuer: arkName,
      subject: arkName,
      notBefore,
      notAfter,
      publicKey: pub(keys.ark),
      extensions: [
        { oid: OID.keyUsage, critical: true, value: keyUsage(["keyCertSign", "cRLSign"]) },
        { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(pub(keys.ark)) },
        { oid: OID.basicConstraints, critical: true, value: basicConstraints(true) },
        { oid: OID.crlDistributionPoints, value: crlDistributionPoint(crl("vcek")) },
      ],
    },
    rsaPssSha384Signer(keys.ark),
  );
  const intermediate = (key: KeyObject, cn: string, serial: bigint, chain: "vcek" | "vlek") =>
    buildCertificate(
      {
        serial,
        issuer: arkName,
        subject: amdName(cn),
        notBefore,
        notAfter,
        publicKey: pub(key),
        extensions: [
          { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(pub(key)) },
          { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(pub(keys.ark)) },
          { oid: OID.basicConstraints, critical: true, value: basicConstraints(true, 0) },
          { oid: OID.keyUsage, critical: true, value: keyUsage(["keyCertSign"]) },
          { oid: OID.crlDistributionPoints, value: crlDistributionPoint(crl(chain)) },
        ],
      },
      rsaPssSha384Signer(keys.ark),
    );
  return {
    ark,
    ask: intermediate(keys.ask, `SEV-${product}`, serialBase + 1n, "vcek"),
    asvk: intermediate(keys.asvk, `SEV-VLEK-${product}`, serialBase + 2n, "vlek"),
  };
}

/** P-384 group order (SEC 2, secp384r1 n). */
const P384_N = BigInt(
  "0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
);

/**
 * Derives a P-384 private key from a secret and a label, as real firmware derives a VCEK from the
 * chip secret and the TCB: the same chip and TCB always give the same key.
 */
export function deriveP384Key(secret: Uint8Array, label: string): KeyObject {
  const okm = Buffer.from(
    hkdfSync("sha384", secret, Buffer.from("confidential-inference simulated SNP"), Buffer.from(label), 64),
  );
  const d = (BigInt(`0x${okm.toString("hex")}`) % (P384_N - 1n)) + 1n;
  const dBytes = Buffer.from(d.toString(16).padStart(96, "0"), "hex");
  return createPrivateKey({
    key: encodeSequence(encodeInteger(1), encodeOctetString(dBytes), encodeExplicit(0, encodeOid(OID.secp384r1))),
    format: "der",
    type: "sec1",
  });
}

/** The VEK to issue: role, TCB, and hwID (VCEK) or cspID (VLEK). */
export interface VekSpec {
  readonly role: "vcek" | "vlek";
  readonly product: SnpProduct;
  readonly tcb: TcbComponents;
  /** VCEK: CHIP_ID (64 bytes; Turin certificates carry the first 8). */
  readonly chipId?: Uint8Array;
  /** VLEK: cloud provider id, e.g. `CN=sandbox.local`. */
  readonly cspId?: string;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
}

/** Builds a VCEK or VLEK certificate (DER) signed by the intermediate key. */
export function buildSimulatedVek(spec: VekSpec, intermediateKey: KeyObject): Buffer {
  const int = (n: number) => encodeInteger(n);
  const turin = spec.product === "Turin";
  const ext = (oid: string, value: Uint8Array) => ({ oid, value });
  const extensions = [
    ext(AMD_OID.structVersion, int(turin ? 1 : 0)),
    ext(
      AMD_OID.productName,
      encodeIa5String(spec.role === "vlek" ? spec.product : SIMULATED_PRODUCT_NAME[spec.product]),
    ),
    ...(turin ? [ext(AMD_OID.fmcSPL, int(spec.tcb.fmc ?? 0))] : []),
    ext(AMD_OID.blSPL, int(spec.tcb.bootloader)),
    ext(AMD_OID.teeSPL, int(spec.tcb.tee)),
    ...(turin ? [] : [ext(AMD_OID.spl4, int(0))]),
    ext(AMD_OID.spl5, int(0)),
    ext(AMD_OID.spl6, int(0)),
    ext(AMD_OID.spl7, int(0)),
    ext(AMD_OID.snpSPL, int(spec.tcb.snp)),
    ext(AMD_OID.ucodeSPL, int(spec.tcb.microcode)),
    spec.role === "vcek"
      ? ext(AMD_OID.hwID, Buffer.from((spec.chipId ?? Buffer.alloc(64)).subarray(0, turin ? 8 : 64)))
      : ext(AMD_OID.cspID, encodeIa5String(spec.cspId ?? "CN=sandbox.local")),
  ];
  const issuerCn = spec.role === "vcek" ? `SEV-${spec.product}` : `SEV-VLEK-${spec.product}`;
  return buildCertificate(
    {
      serial: 0n,
      issuer: amdName(issuerCn),
      subject: amdName(spec.role === "vcek" ? "SEV-VCEK" : "SEV-VLEK"),
      notBefore: spec.notBefore,
      notAfter: new Date(spec.notBefore.getTime() + (spec.role === "vcek" ? 7 * YEAR_MS : YEAR_MS)),
      publicKey: spec.publicKey,
      extensions,
    },
    rsaPssSha384Signer(intermediateKey),
  );
}

/** A stable label for a VEK key derivation. */
export function vekLabel(
  role: "vcek" | "vlek",
  product: SnpProduct,
  id: Uint8Array | string,
  tcb: TcbComponents,
): string {
  const idHex = typeof id === "string" ? id : Buffer.from(id).toString("hex");
  return `${role}|${product}|${idHex}|${tcb.fmc ?? "-"}.${tcb.bootloader}.${tcb.tee}.${tcb.snp}.${tcb.microcode}`;
}
