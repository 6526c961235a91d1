/**
 * Guardrail on certificate lifetimes: the `@pulumi/tls` certificates of the stack (listener, client,
 * client-facing) are renewed only by `pulumi up`, within `earlyRenewalHours` of their expiry (30 days
 * here). A preview that sees one within `warnDays` of its `validityEndTime` says so, so a stack that
 * is rarely deployed does not let a listener certificate lapse (docs/deploy.md "Certificate renewal").
 * Advisory: it never blocks a deploy, the deploy is the fix.
 */
import type { StackValidationPolicy } from "@pulumi/policy";

/** Configuration of {@link certificateRenewalDue}. */
export interface RenewalConfig {
  /** Warn this many days before expiry. Default 30 (when `pulumi up` starts renewing). */
  readonly warnDays?: number;
}

const CERT_TYPES = new Set([
  "tls:index/selfSignedCert:SelfSignedCert",
  "tls:index/locallySignedCert:LocallySignedCert",
]);

/** The policy, with an injectable clock (tests freeze it). */
export function certificateRenewalPolicy(now: () => Date = () => new Date()): StackValidationPolicy {
  return {
    name: "tls-certificate-renewal-due",
    description:
      "Warns when a certificate made by @pulumi/tls is within 30 days of expiry: run `pulumi up`, which renews it and rolls the pods that use it.",
    enforcementLevel: "advisory",
    configSchema: { properties: { warnDays: { type: "number", minimum: 1 } } },
    validateStack: (args, reportViolation) => {
      const warnDays = args.getConfig<RenewalConfig>().warnDays ?? 30;
      const t = now().getTime();
      for (const r of args.resources) {
        if (!CERT_TYPES.has(r.type)) continue;
        const end = r.props["validityEndTime"];
        if (typeof end !== "string" || Number.isNaN(Date.parse(end))) continue; // not created yet
        const days = Math.floor((Date.parse(end) - t) / 86_400_000);
        if (days < warnDays || r.props["readyForRenewal"] === true)
          reportViolation(
            days < 0
              ? `certificate ${r.name} expired on ${end}: run \`pulumi up\` now (it renews it and rolls the pods that use it)`
              : `certificate ${r.name} expires on ${end} (in ${days} days): run \`pulumi up\` (it renews it and rolls the pods that use it)`,
            r.urn,
          );
      }
    },
  };
}

/** Warns ahead of the expiry of the stack's `@pulumi/tls` certificates. */
export const certificateRenewalDue: StackValidationPolicy = certificateRenewalPolicy();
