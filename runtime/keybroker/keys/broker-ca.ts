/**
 * The broker CA as its listeners and clients see it: which CA versions clients should trust now,
 * the listeners' own TLS certificate (a fresh software key per start, signed by the HSM CA), and the
 * pinned public keys the configuration names.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  buildCertificate,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  pointFromJwk,
  pointFromKey,
  toPem,
} from "../../../core/index.js";
import type { KeyBrokerConfig } from "../config.js";
import { KeyBrokerError } from "../errors.js";
import type { KeyVersionRecord } from "../state/state.js";
import { serialNumber } from "./ca-certificate.js";
import type { Keyring } from "./keyring.js";
import { teeKeyCheck } from "./tee-key.js";

/** TLS material of the broker's own listeners: a software key with a certificate from the HSM CA. */
export interface ListenerTls {
  readonly key: string;
  readonly cert: string;
  /** Every broker CA certificate clients should trust now (active first). */
  readonly caBundle: string;
}

/** CA versions clients should trust at `now`: the active one and any retired within TTL + grace, active first. */
export function trustedCaVersions(
  versions: readonly KeyVersionRecord[],
  config: KeyBrokerConfig,
  now: Date,
): KeyVersionRecord[] {
  const keepMs = (config.ttl.sessionKeySeconds + config.ttl.graceSeconds) * 1000;
  const nowMs = now.getTime();
  return [...versions]
    .filter(
      (v) =>
        v.certPem && (v.status === "active" || (v.retiredAt !== undefined && nowMs - Date.parse(v.retiredAt) < keepMs)),
    )
    .sort((a, b) => (a.status === "active" ? -1 : b.status === "active" ? 1 : b.version - a.version));
}

/** A fresh P-384 key (memory only) and a 90-day listener certificate for the configured names, signed by the HSM CA. */
export function listenerCertificate(
  keyring: Keyring,
  config: KeyBrokerConfig,
  now: Date,
): Omit<ListenerTls, "caBundle"> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const ca = keyring.active("ca");
  const caPoint = teeKeyCheck(() => pointFromJwk(ca.publicJwk, "keys.ca.publicJwk"));
  const notBefore = new Date(now.getTime() - 60_000);
  const der = buildCertificate(
    ecProfileSpec({
      serial: serialNumber(),
      issuer: { commonName: `confidential-inference broker CA v${ca.version}`, organization: "confidential-inference" },
      subject: { commonName: "confidential-inference key broker", organization: "confidential-inference" },
      notBefore,
      notAfter: new Date(notBefore.getTime() + 90 * 86_400_000),
      subjectPoint: pointFromKey(publicKey),
      issuerPoint: caPoint,
      profile: "tls",
      altNames: { dns: config.tls.dnsNames, ip: config.tls.ipAddresses },
    }),
    ecdsaSha384RawSigner((tbs) => keyring.signEs384("ca", tbs).signature),
  );
  return { key: privateKey.export({ type: "pkcs8", format: "pem" }) as string, cert: toPem(der) };
}

/** Reads a PEM public key (or certificate) file as a P-384 KeyObject; CONFIG_INVALID naming the key. */
export function readPublicKey(path: string, field: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: cannot read ${path}`, { cause: e });
  }
  try {
    const key = text.includes("BEGIN CERTIFICATE") ? new X509Certificate(text).publicKey : createPublicKey(text);
    if (key.asymmetricKeyDetails?.namedCurve !== "secp384r1") throw new Error("not P-384");
    return key;
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: ${path} is not a P-384 public key or certificate`, {
      cause: e,
    });
  }
}
