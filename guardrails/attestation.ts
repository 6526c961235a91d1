/**
 * Guardrails on what the verifier accepts: no debug guests or migration agents (in the verifier
 * policy, in the manifest's allowed policy bits, in the launch policy of every guest unit), and a
 * TCB floor for every accepted product in prod.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { jsonIn, obj } from "./props.js";

const DEBUG = 1n << 19n;
const MIGRATE_MA = 1n << 18n;
const VERIFIER_POLICY_KEY = "verifier-policy.json";
const PRODUCT_OF_ROOT: Readonly<Record<string, string>> = {
  "amd-milan": "Milan",
  "amd-genoa": "Genoa",
  "amd-turin": "Turin",
};

/** The verifier policy carried by a ConfigMap, if this resource is one that carries it. */
export function verifierPolicyOf(type: string, props: Record<string, unknown>): Record<string, unknown> | undefined {
  if (type !== "kubernetes:core/v1:ConfigMap") return undefined;
  return jsonIn(obj(props["data"])[VERIFIER_POLICY_KEY]);
}

function bits(hex: unknown): bigint | undefined {
  return typeof hex === "string" && /^0x[0-9a-f]+$/i.test(hex) ? BigInt(hex) : undefined;
}

/** Debug and migration agents are never accepted, and never launched. */
export const noDebugOrMigration: ResourceValidationPolicy = {
  name: "attestation-forbids-debug-and-migration",
  description:
    "The verifier policy refuses POLICY.DEBUG and POLICY.MIGRATE_MA guests, and no guest is launched with either bit.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const policy = verifierPolicyOf(args.type, args.props);
    if (policy !== undefined) {
      if (policy["allowDebug"] !== false)
        reportViolation("the verifier policy accepts debug guests (allowDebug): the host can read their memory");
      if (policy["allowMigrationAgent"] !== false)
        reportViolation("the verifier policy accepts guests with a migration agent (allowMigrationAgent)");
      const allowed = bits(policy["allowedPolicyBits"]);
      if (allowed !== undefined && (allowed & DEBUG) !== 0n)
        reportViolation("the golden manifest allows POLICY.DEBUG (bit 19) in reports");
      if (allowed !== undefined && (allowed & MIGRATE_MA) !== 0n)
        reportViolation("the golden manifest allows POLICY.MIGRATE_MA (bit 18) in reports");
    }
    if (args.type === "command:remote:Command") {
      const create = args.props["create"];
      for (const m of typeof create === "string"
        ? create.matchAll(/sev-snp-guest,[^\s'"]*?policy=(0x[0-9a-f]+)/gi)
        : []) {
        const p = bits(m[1]) ?? 0n;
        if ((p & DEBUG) !== 0n) reportViolation(`a guest is launched with policy ${m[1]}: POLICY.DEBUG is set`);
        if ((p & MIGRATE_MA) !== 0n)
          reportViolation(`a guest is launched with policy ${m[1]}: POLICY.MIGRATE_MA is set`);
      }
    }
  },
};

/** In prod, every product the verifier accepts has a TCB floor. */
export const tcbFloorInProd: ResourceValidationPolicy = {
  name: "tcb-floor-required-in-prod",
  description:
    "In prod the verifier policy has a minimum reported TCB for every product line it accepts, so unpatched hosts get no keys.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const policy = verifierPolicyOf(args.type, args.props);
    if (policy === undefined || policy["environment"] !== "prod") return;
    const floors = obj(policy["tcbFloors"]);
    const roots = Array.isArray(policy["allowedRoots"]) ? (policy["allowedRoots"] as unknown[]) : [];
    for (const root of roots) {
      const product = PRODUCT_OF_ROOT[String(root)];
      if (product !== undefined && floors[product] === undefined)
        reportViolation(`prod accepts ${product} evidence (${String(root)}) without a TCB floor for ${product}`);
    }
    if (roots.includes("simulated")) reportViolation("prod trusts the simulated (sandbox) root");
  },
};
