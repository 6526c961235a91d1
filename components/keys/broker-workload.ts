/**
 * The key broker's workload in its two shapes (docs/key-broker.md "Replicas"): without a store, one
 * pod as a Deployment with `Recreate` updates and its state on a PersistentVolumeClaim; with the
 * PostgreSQL store, a StatefulSet of replicas sharing the database, each keeping its audit log on its
 * own claim, rolling one pod at a time.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { WORKLOADS, workloadLabels } from "../labels.js";
import { brokerPodTemplate, type BrokerPodSpec } from "./broker-pod.js";

/** Inputs of {@link createBrokerWorkload}. */
export interface BrokerWorkloadSpec {
  readonly replicas: pulumi.Input<number>;
  /** The pod template's inputs, except where the state volume and the store come from. */
  readonly pod: Omit<BrokerPodSpec, "stateClaimName" | "stateFromClaimTemplate" | "storeSecretName">;
  /** Secret with the store's connection string; absent: the single-pod shape. */
  readonly storeSecretName?: pulumi.Input<string>;
  /** Metadata of an object named `objectName` in the keys namespace with the broker's labels. */
  readonly metadata: (objectName: string) => k8s.types.input.meta.v1.ObjectMeta;
}

/** Creates the broker's Deployment (and its state claim) or StatefulSet under `parent`; returns the workload. */
export function createBrokerWorkload(name: string, s: BrokerWorkloadSpec, parent: pulumi.Resource): pulumi.Resource {
  const opts = { parent };
  if (s.storeSecretName !== undefined) {
    // A fleet: the shared state is in PostgreSQL; each replica keeps its audit log on its own claim
    // (never lost with a pod), and pods roll one at a time while the others serve.
    return new k8s.apps.v1.StatefulSet(
      `${name}-broker`,
      {
        metadata: s.metadata(WORKLOADS.broker),
        spec: {
          replicas: s.replicas,
          serviceName: WORKLOADS.broker,
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          selector: { matchLabels: workloadLabels(WORKLOADS.broker) },
          template: brokerPodTemplate({ ...s.pod, stateFromClaimTemplate: true, storeSecretName: s.storeSecretName }),
          volumeClaimTemplates: [
            {
              metadata: { name: "state" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
            },
          ],
        },
      },
      opts,
    );
  }
  // The state (key registry, wrapped data keys, manifest states, epochs, audit log; SoftHSM's token
  // too) must outlive the pod with any HSM: on an emptyDir a restart would lose the wrapped data keys.
  const claim = new k8s.core.v1.PersistentVolumeClaim(
    `${name}-state`,
    {
      metadata: s.metadata(`${WORKLOADS.broker}-state`),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    },
    opts,
  );
  return new k8s.apps.v1.Deployment(
    `${name}-broker`,
    {
      metadata: s.metadata(WORKLOADS.broker),
      spec: {
        replicas: s.replicas,
        // The state lives on a ReadWriteOnce volume and one broker owns it: never two pods at once.
        strategy: { type: "Recreate" },
        selector: { matchLabels: workloadLabels(WORKLOADS.broker) },
        template: brokerPodTemplate({ ...s.pod, stateClaimName: claim.metadata.name }),
      },
    },
    opts,
  );
}
