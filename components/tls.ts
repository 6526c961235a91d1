/**
 * Low-value TLS material made with `@pulumi/tls`. Its private keys end up (encrypted) in Pulumi
 * state, so only leaf certificates for transport are made here: never a CA, never a key that signs
 * certificates, tokens or manifests (those live in the HSM). The policy pack enforces the same
 * rule on every stack.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Key usages a low-value leaf certificate may have. */
export const LEAF_USES = ["digital_signature", "key_encipherment", "server_auth", "client_auth"] as const;
/** A key usage of a low-value leaf certificate. */
export type LeafUse = (typeof LEAF_USES)[number];

/** What the leaf certificate is for. */
export interface LeafCertSpec {
  readonly commonName: pulumi.Input<string>;
  readonly dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
  readonly ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
  readonly uses: readonly LeafUse[];
  /** Validity in hours; renewed `renewHours` before expiry on the next `pulumi up`. */
  readonly validityHours: number;
  readonly renewHours: number;
}

/** A P-384 key (in state, encrypted) and a self-signed leaf certificate for it. */
export interface LeafCert {
  readonly key: tls.PrivateKey;
  readonly cert: tls.SelfSignedCert;
  /** The certificate (public). */
  readonly certPem: pulumi.Output<string>;
  /** The private key, wrapped as a Pulumi secret. */
  readonly keyPem: pulumi.Output<string>;
}

/**
 * Creates `<name>-key` and `<name>-cert` under `parent`.
 * @throws TypeError when asked for a certificate-signing usage (caller misuse).
 */
export function leafCert(name: string, spec: LeafCertSpec, parent: pulumi.Resource): LeafCert {
  for (const use of spec.uses)
    if (!LEAF_USES.includes(use)) throw new TypeError(`leafCert: "${String(use)}" is not a leaf usage`);
  const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P384" }, { parent });
  const cert = new tls.SelfSignedCert(
    `${name}-cert`,
    {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: spec.commonName, organization: "confidential-inference" },
      ...(spec.dnsNames === undefined ? {} : { dnsNames: spec.dnsNames }),
      ...(spec.ipAddresses === undefined ? {} : { ipAddresses: spec.ipAddresses }),
      allowedUses: [...spec.uses],
      isCaCertificate: false,
      validityPeriodHours: spec.validityHours,
      earlyRenewalHours: spec.renewHours,
    },
    { parent },
  );
  return { key, cert, certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}
