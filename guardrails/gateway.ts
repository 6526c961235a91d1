/**
 * Guardrail on the gateway: outside dev it serves no plaintext API, only the OHTTP relay, so the
 * gateway (outside the boundary) never holds prompts or answers in clear.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { environmentOf, jsonIn, obj } from "./props.js";

/** Outside dev, the gateway's config does not enable the plaintext API. */
export const plaintextApiOnlyInDev: ResourceValidationPolicy = {
  name: "plaintext-api-only-in-dev",
  description:
    "Outside dev the gateway serves only the Oblivious HTTP relay: its config (gateway.json) never sets plaintextApi, so prompts and answers cross the gateway encrypted to the attested runtime.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:ConfigMap") return;
    const config = jsonIn(obj(args.props["data"])["gateway.json"]);
    if (config === undefined || config["plaintextApi"] !== true) return;
    const env = environmentOf(args.props);
    if (env === "dev") return;
    reportViolation(
      `gateway.json sets plaintextApi in ${env ?? "an unlabelled environment"}: the gateway would read prompts and answers (dev only)`,
    );
  },
};
