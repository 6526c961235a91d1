/**
 * VCEK / VLEK ("versioned endorsement key") certificates: AMD's X.509 extensions under arc
 * 1.3.6.1.4.1.3704.1 (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
 * Specification", pub. 57230, "VCEK Certificate Extensions" table). Values are DER TLVs placed
 * directly in the extension's OCTET STRING, except hwID, which is raw bytes (a DER OCTET STRING
 * wrapping is also accepted, as snpguest and trustee do).
 */
import type { TcbComponents } from "../../../measurements/drift/index.js";
import { productFromProductName, type SnpProduct } from "../abi/product.js";
import { AttestationError } from "../errors.js";
import { nameValue, OID, type Certificate, decodeInteger, decodeString, readOne, TAG } from "../../../core/index.js";

const ARC = "1.3.6.1.4.1.3704.1";

/** AMD extension OIDs of VCEK/VLEK certificates. */
export const AMD_OID = {
  structVersion: `${ARC}.1`,
  productName: `${ARC}.2`,
  blSPL: `${ARC}.3.1`,
  teeSPL: `${ARC}.3.2`,
  snpSPL: `${ARC}.3.3`,
  spl4: `${ARC}.3.4`,
  spl5: `${ARC}.3.5`,
  spl6: `${ARC}.3.6`,
  spl7: `${ARC}.3.7`,
  ucodeSPL: `${ARC}.3.8`,
  fmcSPL: `${ARC}.3.9`,
  hwID: `${ARC}.4`,
  cspID: `${ARC}.5`,
} as const;

const KNOWN_AMD = new Set<string>(Object.values(AMD_OID));

/** The role of a versioned endorsement key certificate. */
export type VekRole = "vcek" | "vlek";

/** What a VCEK/VLEK certificate says about the chip and TCB it was issued for. */
export interface VekInfo {
  readonly role: VekRole;
  /** 0 on Milan/Genoa and VLEKs, 1 on Turin. */
  readonly structVersion: number;
  /** As written by AMD, e.g. `Milan-B0`, `Genoa`, `Turin`. */
  readonly productName: string;
  readonly product: SnpProduct;
  /** The TCB the key was derived for (`fmc` on Turin only). */
  readonly tcb: TcbComponents;
  /** hwID (VCEK only): CHIP_ID, 64 bytes on Milan/Genoa, the first 8 bytes of it on Turin. */
  readonly hwId: Buffer | undefined;
  /** cspID (VLEK only): the cloud provider the VLEK was issued to. */
  readonly cspId: string | undefined;
}

function bad(message: string, path: string): AttestationError {
  return new AttestationError("VEK_EXTENSIONS", `reading VEK extensions: ${message}`, { path });
}

function spl(value: Buffer, name: string, path: string): number {
  let n: bigint;
  try {
    n = decodeInteger(readOne(value, TAG.integer));
  } catch {
    throw bad(`${name} is not a DER INTEGER`, `${path}.${name}`);
  }
  if (n < 0n || n > 255n) throw bad(`${name} ${n} is outside 0-255`, `${path}.${name}`);
  return Number(n);
}

function ia5(value: Buffer, name: string, path: string): string {
  try {
    return decodeString(readOne(value, TAG.ia5String));
  } catch {
    throw bad(`${name} is not a DER IA5String`, `${path}.${name}`);
  }
}

/** The role named by a VEK subject CN (`SEV-VCEK` / `SEV-VLEK`), or undefined. */
export function vekRoleOf(cert: Certificate): VekRole | undefined {
  const cn = nameValue(cert.subject, OID.commonName);
  return cn === "SEV-VCEK" ? "vcek" : cn === "SEV-VLEK" ? "vlek" : undefined;
}

/**
 * Reads the AMD extensions of a VCEK/VLEK. Refuses (code `VEK_EXTENSIONS`): duplicate extensions,
 * unknown OIDs in AMD's arc, unknown critical extensions, missing or mistyped structVersion /
 * productName / SPLs, SPLs outside 0-255, fmcSPL missing on Turin, hwID missing on a VCEK or present
 * on a VLEK, hwID of the wrong length for the product, cspID missing on a VLEK or present on a VCEK.
 * A subject CN that is neither `SEV-VCEK` nor `SEV-VLEK` is `CERTIFICATE_PROFILE`.
 */
export function parseVekExtensions(cert: Certificate, path = "vek"): VekInfo {
  const role = vekRoleOf(cert);
  if (!role)
    throw new AttestationError(
      "CERTIFICATE_PROFILE",
      `reading VEK: subject CN "${nameValue(cert.subject, OID.commonName) ?? ""}" is neither SEV-VCEK nor SEV-VLEK`,
      { path: `${path}.subject.CN` },
    );
  const ext = new Map<string, Buffer>();
  for (const e of cert.extensions) {
    if (ext.has(e.oid)) throw bad(`duplicate extension ${e.oid}`, `${path}.extensions`);
    if (e.oid.startsWith(`${ARC}.`) && !KNOWN_AMD.has(e.oid))
      throw bad(`unknown AMD extension ${e.oid}`, `${path}.extensions`);
    if (!e.oid.startsWith(`${ARC}.`) && e.critical)
      throw bad(`unknown critical extension ${e.oid}`, `${path}.extensions`);
    ext.set(e.oid, e.value);
  }
  const need = (oid: string, name: string): Buffer => {
    const v = ext.get(oid);
    if (!v) throw bad(`${name} is missing`, `${path}.extensions.${name}`);
    return v;
  };
  const structVersion = spl(need(AMD_OID.structVersion, "structVersion"), "structVersion", `${path}.extensions`);
  const productName = ia5(need(AMD_OID.productName, "productName"), "productName", `${path}.extensions`);
  const product = productFromProductName(productName);
  if (!product) throw bad(`unknown productName "${productName}"`, `${path}.extensions.productName`);
  const p = `${path}.extensions`;
  const base = {
    bootloader: spl(need(AMD_OID.blSPL, "blSPL"), "blSPL", p),
    tee: spl(need(AMD_OID.teeSPL, "teeSPL"), "teeSPL", p),
    snp: spl(need(AMD_OID.snpSPL, "snpSPL"), "snpSPL", p),
    microcode: spl(need(AMD_OID.ucodeSPL, "ucodeSPL"), "ucodeSPL", p),
  };
  for (const [oid, name] of [
    [AMD_OID.spl4, "spl4"],
    [AMD_OID.spl5, "spl5"],
    [AMD_OID.spl6, "spl6"],
    [AMD_OID.spl7, "spl7"],
  ] as const) {
    const v = ext.get(oid);
    if (v) spl(v, name, p);
  }
  const fmcRaw = ext.get(AMD_OID.fmcSPL);
  if (product === "Turin" && !fmcRaw) throw bad("fmcSPL is missing on a Turin certificate", `${p}.fmcSPL`);
  if (product !== "Turin" && fmcRaw) throw bad(`fmcSPL present on a ${product} certificate`, `${p}.fmcSPL`);
  const tcb: TcbComponents = fmcRaw ? { ...base, fmc: spl(fmcRaw, "fmcSPL", p) } : base;
  const hwRaw = ext.get(AMD_OID.hwID);
  const cspRaw = ext.get(AMD_OID.cspID);
  let hwId: Buffer | undefined;
  if (role === "vcek") {
    if (!hwRaw) throw bad("hwID is missing on a VCEK", `${p}.hwID`);
    if (cspRaw) throw bad("cspID present on a VCEK", `${p}.cspID`);
    const expected = product === "Turin" ? 8 : 64;
    hwId =
      hwRaw.length === expected + 2 && hwRaw[0] === TAG.octetString && hwRaw[1] === expected
        ? Buffer.from(hwRaw.subarray(2))
        : Buffer.from(hwRaw);
    if (hwId.length !== expected)
      throw bad(`hwID is ${hwId.length} bytes, expected ${expected} for ${product}`, `${p}.hwID`);
  } else {
    if (hwRaw) throw bad("hwID present on a VLEK", `${p}.hwID`);
    if (!cspRaw) throw bad("cspID is missing on a VLEK", `${p}.cspID`);
  }
  return { role, structVersion, productName, product, tcb, hwId, cspId: cspRaw ? ia5(cspRaw, "cspID", p) : undefined };
}
