/**
 * Guardrail on key material in Pulumi state: `@pulumi/tls` keys live (encrypted) in state, which is
 * acceptable for low-value transport certificates only. A CA, a certificate-signing key, or a key
 * named after an HSM-class role (CA, KEK, token or manifest signing) must stay in the HSM.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr } from "./props.js";

const HSM_CLASS_NAME = /(^|[-_])(ca|root|kek|signing|token-signing|release-signing)([-_]key)?$/;
const SIGNING_USES = new Set(["cert_signing", "crl_signing"]);

/** No HSM-class private key in Pulumi state. */
export const noHsmClassKeysInState: ResourceValidationPolicy = {
  name: "no-hsm-class-keys-in-state",
  description:
    "TLS private keys in Pulumi state are only for low-value leaf certificates; CA and signing keys stay in the HSM.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (
      args.type === "tls:index/selfSignedCert:SelfSignedCert" ||
      args.type === "tls:index/locallySignedCert:LocallySignedCert"
    ) {
      if (args.props["isCaCertificate"] === true)
        reportViolation(
          "a CA certificate is made with @pulumi/tls: its private key would be in Pulumi state (keep CA keys in the HSM)",
        );
      const uses = arr(args.props["allowedUses"])
        .map(String)
        .filter((u) => SIGNING_USES.has(u));
      if (uses.length > 0)
        reportViolation(
          `a certificate allows ${uses.join(", ")}: its private key would sign certificates from Pulumi state`,
        );
    }
    if (args.type === "tls:index/privateKey:PrivateKey" && HSM_CLASS_NAME.test(args.name.replace(/-key$/, ""))) {
      reportViolation(
        `private key ${args.name} is named for an HSM-class role: create it inside the HSM, not in Pulumi state`,
      );
    }
  },
};
