/**
 * Every guardrail of the confidential-inference policy pack. Kept apart from `index.ts`, which
 * constructs the `PolicyPack` (that starts a gRPC server), so tests import the policies alone.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { noDebugOrMigration, tcbFloorInProd } from "./attestation.js";
import { plaintextApiOnlyInDev } from "./gateway.js";
import { certificateRenewalDue } from "./certificates.js";
import { noHsmClassKeysInState } from "./keys.js";
import { brokerUnreachableFromGateway, namespaceDefaultDeny } from "./network.js";
import { confidentialPodBindsHostData, confidentialRuntimeClass, imagePinnedByDigest } from "./workloads.js";

/** Name of the policy pack. */
export const POLICY_PACK_NAME = "confidential-inference-guardrails";

/** The guardrails, in documentation order. */
export const POLICIES: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
  imagePinnedByDigest,
  noDebugOrMigration,
  confidentialRuntimeClass,
  confidentialPodBindsHostData,
  namespaceDefaultDeny,
  brokerUnreachableFromGateway,
  noHsmClassKeysInState,
  tcbFloorInProd,
  plaintextApiOnlyInDev,
  certificateRenewalDue,
];
