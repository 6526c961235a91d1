/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack guardrails/` (or publish it to a policy
 * group). Constructing the pack starts its gRPC server, so only this entry point does it.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES, POLICY_PACK_NAME } from "./policies.js";

new PolicyPack(POLICY_PACK_NAME, { policies: [...POLICIES] });
