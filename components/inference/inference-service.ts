/**
 * `InferenceService`: the inference runtime inside the confidential zone (image by digest, the
 * confidential RuntimeClass where configured, non-root, read-only root fs, no API token, limits)
 * and the gateway outside it, their Services, and an HPA for the runtime. The gateway reaches the
 * runtime over mTLS with a low-value client certificate; the runtime's server certificate is issued
 * by the key broker only after attestation.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  checkCount,
  checkDnsLabel,
  checkImageByDigest,
  checkPort,
  known,
  throwIfInvalid,
  type ArgProblem,
} from "../args.js";
import { LABEL, WORKLOADS, workloadLabels } from "../labels.js";
import { leafCert } from "../tls.js";
import { createGateway } from "./gateway.js";
import {
  gatewayProblems,
  type BrokerCaSourceArgs,
  type GatewayClientArgs,
  type GatewayExposureArgs,
  type GatewayTlsArgs,
} from "./gateway-args.js";
import { CONFIG_DIR, MODEL_ROOT, rolloutDigest, runtimePodTemplate } from "./workloads.js";
import type { KataInitData } from "./initdata.js";

/** A pinned model artifact. */
export interface PinnedFile {
  readonly sha256: pulumi.Input<string>;
  readonly size: pulumi.Input<number>;
  readonly source: pulumi.Input<string>;
}

/** Arguments of {@link InferenceService}. */
export interface InferenceServiceArgs {
  /** Namespace of the confidential zone (the runtime). */
  readonly runtimeNamespace: pulumi.Input<string>;
  /** Namespace of the gateway zone. */
  readonly gatewayNamespace: pulumi.Input<string>;
  /** Runtime image, pinned by digest (`name@sha256:...`). */
  readonly runtimeImage: pulumi.Input<string>;
  /** Gateway image, pinned by digest. */
  readonly gatewayImage: pulumi.Input<string>;
  /** RuntimeClass of the confidential pods (e.g. `kata-qemu-snp`); absent means plain pods (dev only). */
  readonly runtimeClassName?: pulumi.Input<string>;
  /** Runtime replicas: the HPA keeps between `min` and `max`. */
  readonly scaling: {
    readonly min: pulumi.Input<number>;
    readonly max: pulumi.Input<number>;
    readonly targetCpuPercent?: pulumi.Input<number>;
  };
  /** Gateway replicas. */
  readonly gatewayReplicas: pulumi.Input<number>;
  /** CPU and memory limit (= request) of each runtime pod, as Kubernetes quantities. */
  readonly resources: { readonly cpu: pulumi.Input<string>; readonly memory: pulumi.Input<string> };
  /** Listener ports. */
  readonly ports: {
    readonly inference: pulumi.Input<number>;
    readonly gateway: pulumi.Input<number>;
    readonly metrics: pulumi.Input<number>;
  };
  /** The model served: API name, encrypted artifact, tokenizer, and the registry key that signs it. */
  readonly model: {
    readonly name: pulumi.Input<string>;
    readonly artifact: PinnedFile;
    readonly tokenizer: PinnedFile;
    readonly signerPublicKey: pulumi.Input<string>;
  };
  /** Dynamic batching and admission limits (ms and request counts). */
  readonly batching: {
    readonly maxBatchSize: pulumi.Input<number>;
    readonly maxBatchDelayMs: pulumi.Input<number>;
    readonly maxQueue: pulumi.Input<number>;
    readonly requestTimeoutMs: pulumi.Input<number>;
  };
  /** The key broker the runtime attests to: its KBS URL and the certificate(s) its listener chains to. */
  readonly keyBroker: { readonly url: pulumi.Input<string>; readonly listenerCertificate: pulumi.Input<string> };
  /**
   * How the gateway learns the broker CA, its only trust anchor for runtime certificates (the broker
   * issues them after attestation): the bundle the broker publishes (`KeyService.caPublication`,
   * verified and reloaded without a restart: one `pulumi up` is enough), or a CA certificate copied
   * from the broker. Absent: the gateway trusts no runtime and serves no inference (fail closed).
   */
  readonly brokerCa?: { readonly published: BrokerCaSourceArgs } | { readonly certificate: pulumi.Input<string> };
  /** Gateway clients: rate limits, model allowlists, API keys (secrets), certificate fingerprints. Default one client `default` at 50/s, burst 100, with no credential. */
  readonly clients?: readonly GatewayClientArgs[];
  /** Client-facing TLS of the gateway; absent: plain HTTP (only behind a TLS-terminating proxy). */
  readonly clientTls?: GatewayTlsArgs;
  /** CA of the client certificates the gateway accepts (with `clientTls`); absent: API keys only. */
  readonly clientCaCertificate?: pulumi.Input<string>;
  /** A LoadBalancer Service or an Ingress in front of the gateway; absent: ClusterIP only. */
  readonly exposure?: GatewayExposureArgs;
  /** Signed golden manifest (compact JWS) the runtime publishes in its attestation bundles; absent: none. */
  readonly goldenManifest?: pulumi.Input<string>;
  /** Also serve the API in clear through the gateway (it then sees prompts); absent: false. Dev only. */
  readonly plaintextApi?: pulumi.Input<boolean>;
  /** Environment class label (`dev`, `staging`, `prod`). */
  readonly environment: pulumi.Input<string>;
  /**
   * Kata initdata of the runtime pods (`runtimeInitData(...)`): required with `runtimeClassName`. Its
   * digest is the HOST_DATA the golden manifest binds to the pods' launch shape, so the broker
   * releases the model key only to a pod running this image with this command and agent policy.
   */
  readonly initData?: KataInitData;
}

const QUANTITY_CPU = /^[0-9]+m?$/;
const QUANTITY_MEMORY = /^[0-9]+(Ki|Mi|Gi)$/;

function validate(args: InferenceServiceArgs): void {
  const problems: ArgProblem[] = [];
  checkDnsLabel(problems, "runtimeNamespace", args.runtimeNamespace);
  checkDnsLabel(problems, "gatewayNamespace", args.gatewayNamespace);
  checkImageByDigest(problems, "runtimeImage", args.runtimeImage);
  checkImageByDigest(problems, "gatewayImage", args.gatewayImage);
  checkDnsLabel(problems, "runtimeClassName", args.runtimeClassName);
  if (args.runtimeClassName !== undefined && args.initData === undefined)
    problems.push({
      propertyPath: "initData",
      reason: "confidential pods (runtimeClassName) need Kata initdata: without it HOST_DATA binds no workload",
    });
  checkCount(problems, "scaling.min", args.scaling.min, 1, 1000);
  checkCount(problems, "scaling.max", args.scaling.max, 1, 1000);
  const min = known(args.scaling.min);
  const max = known(args.scaling.max);
  if (min !== undefined && max !== undefined && max < min)
    problems.push({ propertyPath: "scaling.max", reason: "must be at least scaling.min" });
  checkCount(problems, "gatewayReplicas", args.gatewayReplicas, 1, 1000);
  const cpu = known(args.resources.cpu);
  if (cpu !== undefined && !QUANTITY_CPU.test(cpu))
    problems.push({ propertyPath: "resources.cpu", reason: 'must be a CPU quantity ("2", "500m")' });
  const memory = known(args.resources.memory);
  if (memory !== undefined && !QUANTITY_MEMORY.test(memory))
    problems.push({ propertyPath: "resources.memory", reason: 'must be a memory quantity ("4Gi")' });
  for (const key of ["inference", "gateway", "metrics"] as const) checkPort(problems, `ports.${key}`, args.ports[key]);
  for (const key of ["artifact", "tokenizer"] as const) {
    const sha = known(args.model[key].sha256);
    if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha))
      problems.push({ propertyPath: `model.${key}.sha256`, reason: "must be a lower-case hex SHA-256" });
  }
  problems.push(...gatewayProblems(args.clients ?? [], args.clientCaCertificate, args.exposure));
  if (args.clientCaCertificate !== undefined && args.clientTls === undefined)
    problems.push({ propertyPath: "clientCaCertificate", reason: "client certificates need clientTls" });
  throwIfInvalid("InferenceService", problems);
}

/**
 * The inference runtime (confidential zone) and gateway (gateway zone).
 * @example
 * const inference = new InferenceService("inference", {
 *   runtimeNamespace: seg.namespaces.confidential, gatewayNamespace: seg.namespaces.gateway,
 *   runtimeImage: "registry/runtime@sha256:...", gatewayImage: "registry/gateway@sha256:...",
 *   runtimeClassName: "kata-qemu-snp", scaling: { min: 2, max: 8 }, gatewayReplicas: 2,
 *   resources: { cpu: "4", memory: "8Gi" }, ports: { inference: 8443, gateway: 8080, metrics: 9464 },
 *   model, batching, keyBroker: { url: keys.endpoint, listenerCertificate: keys.listenerCertificate },
 *   environment: "prod",
 * });
 */
export class InferenceService extends pulumi.ComponentResource {
  /** mTLS URL of the runtime Service (inside the cluster). */
  readonly runtimeEndpoint: pulumi.Output<string>;
  /** `host:port` of the gateway Service (clients connect here). */
  readonly gatewayEndpoint: pulumi.Output<string>;
  /** The gateway's client certificate (public) the runtime accepts. */
  readonly gatewayClientCertificate: pulumi.Output<string>;
  /** The gateway's client-facing certificate (public; clients pin a self-signed one); absent without `clientTls`. */
  readonly gatewayCertificate: pulumi.Output<string | undefined>;

  constructor(name: string, args: InferenceServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:InferenceService", name, {}, opts);
    validate(args);
    const parent = { parent: this };
    const meta = (zone: string, workload: string) => ({
      labels: { ...workloadLabels(workload), [LABEL.zone]: zone, [LABEL.environment]: args.environment },
    });

    const clientCert = leafCert(
      `${name}-gateway-client`,
      {
        commonName: WORKLOADS.gateway,
        uses: ["digital_signature", "client_auth"],
        validityHours: 24 * 90,
        renewHours: 24 * 30,
      },
      this,
    );

    const runtimeSa = new k8s.core.v1.ServiceAccount(
      `${name}-runtime`,
      {
        metadata: {
          name: WORKLOADS.runtime,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        automountServiceAccountToken: false,
      },
      parent,
    );

    // runtime.json follows runtime/inference/config.ts (runtimeConfigSchema). The encrypted model
    // ships in the runtime image (pinned by digest) under /opt/models/<name>/; the runtime checks its
    // SHA-256 against the pin and its registry signature before loading. Certificates are separate
    // keys (files) so runtime.json stays readable in a preview, where they are not known yet.
    const modelDir = pulumi.interpolate`${MODEL_ROOT}/${args.model.name}`;
    const runtimeData = {
      "runtime.json": pulumi.jsonStringify(
        {
          listen: { host: "0.0.0.0", port: args.ports.inference },
          ops: { host: "0.0.0.0", port: args.ports.metrics },
          models: [
            {
              name: args.model.name,
              container: pulumi.interpolate`${modelDir}/model.onnx.enc`,
              signature: pulumi.interpolate`${modelDir}/model.onnx.enc.jws`,
              tokenizer: pulumi.interpolate`${modelDir}/tokenizer.json`,
              containerSha256: args.model.artifact.sha256,
            },
          ],
          signerPublicKeyFile: `${CONFIG_DIR}/model-signer.pem`,
          gatewayCaFile: `${CONFIG_DIR}/gateway-client-ca.pem`,
          batching: {
            maxBatchSize: args.batching.maxBatchSize,
            maxBatchDelayMs: args.batching.maxBatchDelayMs,
            maxQueue: args.batching.maxQueue,
            requestTimeoutMs: args.batching.requestTimeoutMs,
          },
          keyBroker: {
            url: args.keyBroker.url,
            caFile: `${CONFIG_DIR}/key-broker-ca.pem`,
            evidence: { kind: "configfs-tsm" },
          },
          attestation: args.goldenManifest === undefined ? {} : { manifestFile: `${CONFIG_DIR}/golden-manifest.jws` },
        },
        undefined,
        2,
      ),
      "key-broker-ca.pem": args.keyBroker.listenerCertificate,
      "gateway-client-ca.pem": clientCert.certPem,
      "model-signer.pem": args.model.signerPublicKey,
      ...(args.goldenManifest === undefined ? {} : { "golden-manifest.jws": args.goldenManifest }),
    };
    const runtimeConfig = new k8s.core.v1.ConfigMap(
      `${name}-runtime-config`,
      {
        metadata: {
          name: `${WORKLOADS.runtime}-config`,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        data: runtimeData,
      },
      parent,
    );
    // The runtime reads these files at start: a renewed gateway certificate or broker pin rolls it.
    const runtimeDigest = pulumi.output(runtimeData).apply(rolloutDigest);

    this.runtimeEndpoint = pulumi.interpolate`https://${WORKLOADS.runtime}.${args.runtimeNamespace}.svc.cluster.local:${args.ports.inference}`;
    this.gatewayEndpoint = pulumi.interpolate`${WORKLOADS.gateway}.${args.gatewayNamespace}.svc.cluster.local:${args.ports.gateway}`;

    const runtime = new k8s.apps.v1.Deployment(
      `${name}-runtime`,
      {
        metadata: {
          name: WORKLOADS.runtime,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        spec: {
          replicas: args.scaling.min,
          selector: { matchLabels: workloadLabels(WORKLOADS.runtime) },
          template: runtimePodTemplate({
            image: args.runtimeImage,
            serviceAccountName: runtimeSa.metadata.name,
            configMapName: runtimeConfig.metadata.name,
            ...(args.runtimeClassName === undefined ? {} : { runtimeClassName: args.runtimeClassName }),
            inferencePort: args.ports.inference,
            metricsPort: args.ports.metrics,
            cpu: args.resources.cpu,
            memory: args.resources.memory,
            rolloutDigest: runtimeDigest,
            ...(args.initData === undefined ? {} : { initData: args.initData.annotation }),
          }),
        },
      },
      { parent: this, ignoreChanges: ["spec.replicas"] },
    ); // the HPA owns the replica count after creation
    new k8s.core.v1.Service(
      `${name}-runtime`,
      {
        metadata: {
          name: WORKLOADS.runtime,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        spec: {
          type: "ClusterIP",
          selector: workloadLabels(WORKLOADS.runtime),
          ports: [
            { name: "mtls", port: args.ports.inference, targetPort: "mtls", protocol: "TCP" },
            { name: "metrics", port: args.ports.metrics, targetPort: "metrics", protocol: "TCP" },
          ],
        },
      },
      parent,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-runtime`,
      {
        metadata: {
          name: WORKLOADS.runtime,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: runtime.metadata.name },
          minReplicas: args.scaling.min,
          maxReplicas: args.scaling.max,
          metrics: [
            {
              type: "Resource",
              resource: {
                name: "cpu",
                target: { type: "Utilization", averageUtilization: args.scaling.targetCpuPercent ?? 70 },
              },
            },
          ],
        },
      },
      parent,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-runtime`,
      {
        metadata: {
          name: WORKLOADS.runtime,
          namespace: args.runtimeNamespace,
          ...meta("confidential", WORKLOADS.runtime),
        },
        // One runtime at a time may be evicted by a drain: the others keep serving while it re-attests.
        spec: { maxUnavailable: 1, selector: { matchLabels: workloadLabels(WORKLOADS.runtime) } },
      },
      parent,
    );

    const gateway = createGateway(
      name,
      {
        namespace: args.gatewayNamespace,
        image: args.gatewayImage,
        replicas: args.gatewayReplicas,
        ports: { gateway: args.ports.gateway, metrics: args.ports.metrics },
        environment: args.environment,
        model: args.model.name,
        runtimeEndpoint: this.runtimeEndpoint,
        upstreamClient: clientCert,
        clients: args.clients ?? [{ name: "default", perSecond: 50, burst: 100 }],
        ...(args.clientTls === undefined ? {} : { tls: args.clientTls }),
        ...(args.clientCaCertificate === undefined ? {} : { clientCaCertificate: args.clientCaCertificate }),
        ...(args.exposure === undefined ? {} : { exposure: args.exposure }),
        brokerCa: args.brokerCa ?? { certificate: "" },
        ...(args.plaintextApi === undefined ? {} : { plaintextApi: args.plaintextApi }),
      },
      this,
    );

    this.gatewayClientCertificate = clientCert.certPem;
    this.gatewayCertificate = gateway.certificate ?? pulumi.output(undefined);
    this.registerOutputs({
      runtimeEndpoint: this.runtimeEndpoint,
      gatewayEndpoint: this.gatewayEndpoint,
      gatewayClientCertificate: this.gatewayClientCertificate,
      gatewayCertificate: this.gatewayCertificate,
    });
  }
}
