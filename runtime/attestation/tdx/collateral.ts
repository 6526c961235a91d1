/**
 * Intel PCS collateral for TDX (pure): TCB info v3 (`{"tcbInfo": {...}, "signature": hex}`) and QE identity v2
 * (`{"enclaveIdentity": {...}, "signature": hex}`), each signed ECDSA P-256 / SHA-256 (r||s) by the "Intel SGX TCB
 * Signing" key over the **exact bytes** of the inner value as it appears in the response, and that signing
 * certificate's chain to the pinned Intel SGX Root CA.
 */
import { createHash, type KeyObject, verify as cryptoVerify } from "node:crypto";
import { type Certificate, isSignedBy, nameValue, OID } from "../../../core/index.js";
import { AttestationError } from "../errors.js";
import { readCertificates } from "../verify/certificates.js";
import { checkValidity } from "./pck.js";

/** Statuses of a TCB level (Intel PCS). */
export const TCB_STATUSES = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
] as const;
/** One of {@link TCB_STATUSES}. */
export type TcbStatus = (typeof TCB_STATUSES)[number];

/** A platform TCB level of the TCB info. */
export interface TdxTcbLevel {
  readonly sgx: readonly number[];
  readonly pceSvn: number;
  readonly tdx: readonly number[];
  readonly date: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** An identity's level (`isvsvn` threshold): TDX module identities and the QE identity. */
export interface IsvLevel {
  readonly isvSvn: number;
  readonly date: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** A TDX module identity (`TDX_<major>`). */
export interface TdxModuleIdentity {
  readonly id: string;
  readonly mrSigner: Buffer;
  readonly attributes: Buffer;
  readonly attributesMask: Buffer;
  readonly levels: readonly IsvLevel[];
}

/** TCB info v3 for TDX. */
export interface TdxTcbInfo {
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly fmspc: Buffer;
  readonly pceId: Buffer;
  readonly tcbEvaluationDataNumber: number;
  readonly module: { readonly mrSigner: Buffer; readonly attributes: Buffer; readonly attributesMask: Buffer };
  readonly moduleIdentities: readonly TdxModuleIdentity[];
  readonly levels: readonly TdxTcbLevel[];
}

/** QE identity v2 of the TD Quoting Enclave. */
export interface TdQeIdentity {
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  readonly miscSelect: Buffer;
  readonly miscSelectMask: Buffer;
  readonly attributes: Buffer;
  readonly attributesMask: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly levels: readonly IsvLevel[];
}

function invalid(path: string, message: string, cause?: unknown): AttestationError {
  return new AttestationError("COLLATERAL_INVALID", `reading TDX collateral: ${path}: ${message}`, {
    path: `collateral.${path}`,
    cause,
  });
}

/** The offsets of the top-level member `key`'s value in a JSON object text (raw bytes as sent). */
export function memberSpan(text: string, key: string): [number, number] | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) throw new Error("unterminated string");
    i++;
  };
  const skipValue = () => {
    ws();
    if (text[i] === '"') return skipString();
    if (text[i] === "{" || text[i] === "[") {
      let depth = 0;
      do {
        const ch = text[i];
        if (ch === '"') {
          skipString();
          continue;
        }
        if (ch === "{" || ch === "[") depth++;
        else if (ch === "}" || ch === "]") depth--;
        i++;
      } while (depth > 0 && i < text.length);
      if (depth !== 0) throw new Error("unbalanced");
      return;
    }
    while (i < text.length && !",}]".includes(text[i]!) && !" \t\r\n".includes(text[i]!)) i++;
  };
  ws();
  if (text[i] !== "{") return undefined;
  i++;
  for (;;) {
    ws();
    if (text[i] !== '"') return undefined;
    const k0 = i;
    skipString();
    const name = JSON.parse(text.slice(k0, i)) as string;
    ws();
    if (text[i] !== ":") return undefined;
    i++;
    ws();
    const start = i;
    skipValue();
    if (name === key) return [start, i];
    ws();
    if (text[i] !== ",") return undefined;
    i++;
  }
}

/** A signed PCS document: its inner value (parsed), the exact signed bytes and the signature. */
function signedDocument(
  bytes: Uint8Array,
  key: string,
): { value: Record<string, unknown>; signed: Buffer; signature: Buffer } {
  const text = Buffer.from(bytes).toString("utf8");
  let doc: Record<string, unknown>;
  let span: [number, number] | undefined;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
    span = memberSpan(text, key);
  } catch (cause) {
    throw invalid(key, "not JSON", cause);
  }
  const value = doc?.[key];
  const sig = doc?.["signature"];
  if (span === undefined || typeof value !== "object" || value === null) throw invalid(key, "missing");
  if (typeof sig !== "string" || !/^[0-9a-fA-F]{128}$/.test(sig)) throw invalid("signature", "must be 64 bytes of hex");
  return {
    value: value as Record<string, unknown>,
    signed: Buffer.from(text.slice(span[0], span[1]), "utf8"),
    signature: Buffer.from(sig, "hex"),
  };
}

const hexField = (v: unknown, bytes: number, path: string): Buffer => {
  if (typeof v !== "string" || v.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(v))
    throw invalid(path, `must be ${bytes} bytes of hex`);
  return Buffer.from(v, "hex");
};
const dateField = (v: unknown, path: string): Date => {
  const d = typeof v === "string" ? new Date(v) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw invalid(path, "must be an ISO-8601 time");
  return d;
};
const intField = (v: unknown, path: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw invalid(path, "must be a non-negative integer");
  return v;
};
const statusField = (v: unknown, path: string): TcbStatus => {
  if (!TCB_STATUSES.includes(v as TcbStatus)) throw invalid(path, `unknown TCB status ${JSON.stringify(v)}`);
  return v as TcbStatus;
};
const list = (v: unknown, path: string): Record<string, unknown>[] => {
  if (!Array.isArray(v) || v.length === 0) throw invalid(path, "must be a non-empty list");
  return v as Record<string, unknown>[];
};
const advisories = (v: unknown, path: string): string[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((a) => typeof a === "string")) throw invalid(path, "must be a list of strings");
  return v as string[];
};
const svns = (v: unknown, path: string): number[] => {
  const l = list(v, path);
  if (l.length !== 16) throw invalid(path, "must have 16 components");
  return l.map((c, i) => intField(c?.["svn"], `${path}[${i}].svn`));
};
const isvLevels = (v: unknown, path: string): IsvLevel[] =>
  list(v, path).map((l, i) => ({
    isvSvn: intField((l?.["tcb"] as Record<string, unknown> | undefined)?.["isvsvn"], `${path}[${i}].tcb.isvsvn`),
    date: String(dateField(l?.["tcbDate"], `${path}[${i}].tcbDate`).toISOString()),
    status: statusField(l?.["tcbStatus"], `${path}[${i}].tcbStatus`),
    advisoryIds: advisories(l?.["advisoryIDs"], `${path}[${i}].advisoryIDs`),
  }));

/** Parses a TCB info response (structure only; see {@link verifyCollateralSignature}). */
export function parseTdxTcbInfo(bytes: Uint8Array): { info: TdxTcbInfo; signed: Buffer; signature: Buffer } {
  const { value: t, signed, signature } = signedDocument(bytes, "tcbInfo");
  if (t["id"] !== "TDX" || t["version"] !== 3) throw invalid("tcbInfo.id", "must be TDX TCB info version 3");
  const m = (t["tdxModule"] ?? {}) as Record<string, unknown>;
  const info: TdxTcbInfo = {
    issueDate: dateField(t["issueDate"], "tcbInfo.issueDate"),
    nextUpdate: dateField(t["nextUpdate"], "tcbInfo.nextUpdate"),
    fmspc: hexField(t["fmspc"], 6, "tcbInfo.fmspc"),
    pceId: hexField(t["pceId"], 2, "tcbInfo.pceId"),
    tcbEvaluationDataNumber: intField(t["tcbEvaluationDataNumber"], "tcbInfo.tcbEvaluationDataNumber"),
    module: {
      mrSigner: hexField(m["mrsigner"], 48, "tcbInfo.tdxModule.mrsigner"),
      attributes: hexField(m["attributes"], 8, "tcbInfo.tdxModule.attributes"),
      attributesMask: hexField(m["attributesMask"], 8, "tcbInfo.tdxModule.attributesMask"),
    },
    moduleIdentities: (t["tdxModuleIdentities"] === undefined
      ? []
      : list(t["tdxModuleIdentities"], "tcbInfo.tdxModuleIdentities")
    ).map((x, i) => {
      const p = `tcbInfo.tdxModuleIdentities[${i}]`;
      if (typeof x?.["id"] !== "string") throw invalid(`${p}.id`, "must be a string");
      return {
        id: x["id"],
        mrSigner: hexField(x["mrsigner"], 48, `${p}.mrsigner`),
        attributes: hexField(x["attributes"], 8, `${p}.attributes`),
        attributesMask: hexField(x["attributesMask"], 8, `${p}.attributesMask`),
        levels: isvLevels(x["tcbLevels"], `${p}.tcbLevels`),
      };
    }),
    levels: list(t["tcbLevels"], "tcbInfo.tcbLevels").map((l, i) => {
      const p = `tcbInfo.tcbLevels[${i}]`;
      const tcb = (l?.["tcb"] ?? {}) as Record<string, unknown>;
      return {
        sgx: svns(tcb["sgxtcbcomponents"], `${p}.tcb.sgxtcbcomponents`),
        pceSvn: intField(tcb["pcesvn"], `${p}.tcb.pcesvn`),
        tdx: svns(tcb["tdxtcbcomponents"], `${p}.tcb.tdxtcbcomponents`),
        date: dateField(l?.["tcbDate"], `${p}.tcbDate`).toISOString(),
        status: statusField(l?.["tcbStatus"], `${p}.tcbStatus`),
        advisoryIds: advisories(l?.["advisoryIDs"], `${p}.advisoryIDs`),
      };
    }),
  };
  return { info, signed, signature };
}

/** Parses a QE identity response (structure only). */
export function parseTdQeIdentity(bytes: Uint8Array): { identity: TdQeIdentity; signed: Buffer; signature: Buffer } {
  const { value: q, signed, signature } = signedDocument(bytes, "enclaveIdentity");
  if (q["id"] !== "TD_QE" || q["version"] !== 2)
    throw invalid("enclaveIdentity.id", "must be TD_QE identity version 2");
  const p = "enclaveIdentity";
  return {
    identity: {
      issueDate: dateField(q["issueDate"], `${p}.issueDate`),
      nextUpdate: dateField(q["nextUpdate"], `${p}.nextUpdate`),
      tcbEvaluationDataNumber: intField(q["tcbEvaluationDataNumber"], `${p}.tcbEvaluationDataNumber`),
      miscSelect: hexField(q["miscselect"], 4, `${p}.miscselect`),
      miscSelectMask: hexField(q["miscselectMask"], 4, `${p}.miscselectMask`),
      attributes: hexField(q["attributes"], 16, `${p}.attributes`),
      attributesMask: hexField(q["attributesMask"], 16, `${p}.attributesMask`),
      mrSigner: hexField(q["mrsigner"], 32, `${p}.mrsigner`),
      isvProdId: intField(q["isvprodid"], `${p}.isvprodid`),
      levels: isvLevels(q["tcbLevels"], `${p}.tcbLevels`),
    },
    signed,
    signature,
  };
}

/**
 * Verifies the TCB Signing chain (`[signing, root]`, PEM, as the PCS `*-Issuer-Chain` headers carry it): the root
 * pinned, the signing certificate named "Intel SGX TCB Signing", signed by the root, both valid at `now`.
 */
export function verifyTcbSigningChain(pem: string, pinnedRoots: ReadonlySet<string>, now: Date): Certificate {
  const certs = readCertificates(pem);
  if (certs.length !== 2) throw invalid("tcbSigningChain", `${certs.length} certificates, not 2`);
  const [signing, root] = certs as [Certificate, Certificate];
  if (!pinnedRoots.has(createHash("sha256").update(root.der).digest("hex")))
    throw new AttestationError("UNTRUSTED_ROOT", "verifying the TCB Signing chain: the root is not pinned", {
      path: "collateral.tcbSigningChain",
    });
  if (nameValue(signing.subject, OID.commonName) !== "Intel SGX TCB Signing")
    throw invalid("tcbSigningChain", "the signing certificate is not Intel SGX TCB Signing");
  if (!signing.issuerRaw.equals(root.subjectRaw) || !isSignedBy(signing, root.publicKey))
    throw new AttestationError("CHAIN_SIGNATURE", "verifying the TCB Signing chain: not signed by the root", {
      path: "collateral.tcbSigningChain",
    });
  checkValidity([signing, root], now, "verifying the TCB Signing chain");
  return signing;
}

/** `COLLATERAL_INVALID` unless `signature` (r||s) over `signed` verifies with the TCB Signing key. */
export function verifyCollateralSignature(what: string, signed: Buffer, signature: Buffer, key: KeyObject): void {
  let ok = false;
  try {
    ok = cryptoVerify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(what, "the signature does not verify with the Intel SGX TCB Signing key");
}

/** `COLLATERAL_EXPIRED` when `now` is outside [issueDate, nextUpdate]. */
export function checkCurrent(what: string, issueDate: Date, nextUpdate: Date, now: Date): void {
  if (now.getTime() > nextUpdate.getTime() || now.getTime() < issueDate.getTime())
    throw new AttestationError(
      "COLLATERAL_EXPIRED",
      `checking TDX collateral: ${what} is valid from ${issueDate.toISOString()} to ${nextUpdate.toISOString()}, not at ${now.toISOString()}`,
      { path: `collateral.${what}` },
    );
}
