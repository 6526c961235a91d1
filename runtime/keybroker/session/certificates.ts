/**
 * Short-lived TLS certificates for attested runtimes: the subject key is the attested ephemeral
 * TEE key (the one bound into REPORT_DATA), the issuer is the broker CA whose key never leaves the
 * HSM. Validity is `ttl.sessionKeySeconds`; the URI SAN names the release, launch shape and epoch
 * so relying parties (the gateway) can tell which attested build they are talking to.
 */
import type { KeyBroker } from "../broker.js";
import {
  buildCertificateAsync,
  checkedPointFromJwk,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  type EcPublicJwk,
  toPem,
} from "../../../core/index.js";
import { serialNumber } from "../keys/ca-certificate.js";
import { teeKeyCheck } from "../keys/tee-key.js";
import type { TokenClaims } from "./tokens.js";
import type { RuntimeCertificate, TeePublicJwk } from "../../kbs-protocol/index.js";
import { KeyBrokerError } from "../errors.js";

/**
 * Why a TEE key cannot be certified, or undefined: runtime certificates are P-384 (the broker CA's
 * profile, and our runtimes' keys); Trustee's P-256, P-521 and RSA keys get resources, not certificates.
 */
export function certificateKeyProblem(jwk: TeePublicJwk): string | undefined {
  return jwk.kty === "EC" && jwk.crv === "P-384"
    ? undefined
    : `the runtime certificate needs an EC P-384 TEE key (this one is ${jwk.kty === "EC" ? jwk.crv : "RSA"})`;
}

/** URI SAN identifying an attested runtime. */
export function runtimeIdentityUri(claims: Pick<TokenClaims, "release" | "launch-shape" | "epoch">): string {
  const enc = (s: string): string => encodeURIComponent(s);
  return `urn:confidential-inference:runtime:release:${enc(claims.release)}:shape:${enc(claims["launch-shape"])}:epoch:${claims.epoch}`;
}

/** Issues a certificate for the token's TEE key, signed by the active HSM CA (`serial`: 16 random bytes unless given). */
export async function issueRuntimeCertificate(
  broker: KeyBroker,
  claims: Pick<TokenClaims, "tee-pubkey" | "release" | "launch-shape" | "epoch">,
  serial: Buffer = serialNumber(),
): Promise<RuntimeCertificate> {
  const keyProblem = certificateKeyProblem(claims["tee-pubkey"]);
  if (keyProblem !== undefined) throw new KeyBrokerError("RESOURCE_FORBIDDEN", keyProblem);
  const tee = claims["tee-pubkey"] as EcPublicJwk;
  const ca = broker.keyring.active("ca");
  const now = broker.now();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + 60_000 + broker.config.ttl.sessionKeySeconds * 1000);
  const der = await buildCertificateAsync(
    ecProfileSpec({
      serial,
      issuer: { commonName: `confidential-inference broker CA v${ca.version}`, organization: "confidential-inference" },
      subject: { commonName: `inference runtime ${claims.release}`, organization: "confidential-inference" },
      notBefore,
      notAfter,
      subjectPoint: teeKeyCheck(() =>
        checkedPointFromJwk({ kty: "EC", crv: "P-384", x: tee.x, y: tee.y }, "token tee-pubkey"),
      ),
      issuerPoint: teeKeyCheck(() => checkedPointFromJwk(ca.publicJwk as EcPublicJwk, "keys.ca.publicJwk")),
      profile: "tls",
      altNames: {
        dns: broker.config.runtimeCertificate.dnsNames,
        ip: broker.config.runtimeCertificate.ipAddresses,
        uri: [runtimeIdentityUri(claims)],
      },
    }),
    ecdsaSha384RawSigner(async (tbs) => (await broker.keyring.signEs384Async("ca", tbs, ca.version)).signature),
  );
  const pem = toPem(der);
  return {
    certificate: pem,
    chain: pem + (ca.certPem ?? ""),
    caBundle: broker.caBundle(),
    serial: serial.toString("hex"),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    epoch: claims.epoch,
  };
}
