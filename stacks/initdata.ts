/**
 * The Kata initdata of a stack's confidential runtime pods, from its config alone: the stack
 * program annotates the pods with it and the golden inputs bind its digest as the HOST_DATA of
 * `inference.launchShape`, so both read the same bytes. Pure.
 */
import { type KataInitData, RUNTIME_ARGS, RUNTIME_MOUNTS, runtimeInitData, WORKLOADS } from "../components/index.js";
import type { StackConfig } from "./config-schema.js";

/** The key broker's in-cluster KBS URL (what `KeyService.endpoint` resolves to). */
export function brokerUrlOf(config: StackConfig): string {
  return `https://${WORKLOADS.broker}.${config.network.zones.keys.namespace}.svc.cluster.local:${config.network.ports.broker}`;
}

/** The runtime pods' initdata, when they run in a confidential RuntimeClass; undefined for plain pods. */
export function stackInitData(config: StackConfig): KataInitData | undefined {
  if (config.inference.runtimeClassName === undefined) return undefined;
  return runtimeInitData({
    image: config.inference.runtimeImage,
    brokerUrl: brokerUrlOf(config),
    args: RUNTIME_ARGS,
    mounts: RUNTIME_MOUNTS,
  });
}
