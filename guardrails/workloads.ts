/**
 * Guardrails on workloads: images pinned by digest; the inference runtime inside a confidential
 * RuntimeClass outside dev.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { gunzipSync } from "node:zlib";
import { KATA_INITDATA_ANNOTATION, LABEL, WORKLOADS } from "../components/index.js";
import { WORKLOAD_TYPES, arr, environmentOf, obj, podLabels, podSpec } from "./props.js";

const BY_DIGEST = /@sha256:[0-9a-f]{64}$/;

/** Every container image of a workload must be pinned by digest. */
export const imagePinnedByDigest: ResourceValidationPolicy = {
  name: "image-pinned-by-digest",
  description:
    "Every container image is pinned by digest (name@sha256:...), so what runs is what was reviewed and measured.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!WORKLOAD_TYPES.has(args.type)) return;
    const spec = podSpec(args.type, args.props);
    for (const c of [...arr(spec["initContainers"]), ...arr(spec["containers"])].map(obj)) {
      const image = c["image"];
      if (typeof image !== "string" || !BY_DIGEST.test(image))
        reportViolation(`container ${String(c["name"])}: image ${JSON.stringify(image)} is not pinned by digest`);
    }
  },
};

/** Configuration of {@link confidentialRuntimeClass}. */
export interface RuntimeClassConfig {
  /** RuntimeClass names that run pods inside SEV-SNP guests (e.g. Kata Containers with SNP). */
  readonly confidentialRuntimeClasses?: readonly string[];
}

/** Default confidential RuntimeClasses (Kata Containers' SNP classes). */
export const DEFAULT_CONFIDENTIAL_RUNTIME_CLASSES = ["kata-qemu-snp", "kata-clh-snp", "kata-snp"] as const;

const RUNTIME_CLASS_SCHEMA = {
  properties: { confidentialRuntimeClasses: { type: "array" as const, items: { type: "string" as const } } },
};

/** The inference runtime's pod of a workload resource, with the configured confidential classes; undefined for others. */
function runtimePod(
  args: ResourceValidationArgs,
): { spec: Record<string, unknown>; allowed: readonly string[] } | undefined {
  if (!WORKLOAD_TYPES.has(args.type)) return undefined;
  if (podLabels(args.type, args.props)[LABEL.name] !== WORKLOADS.runtime) return undefined;
  const allowed =
    args.getConfig<RuntimeClassConfig>().confidentialRuntimeClasses ?? DEFAULT_CONFIDENTIAL_RUNTIME_CLASSES;
  return { spec: podSpec(args.type, args.props), allowed };
}

/** In staging and prod the inference runtime must run in a confidential RuntimeClass. */
export const confidentialRuntimeClass: ResourceValidationPolicy = {
  name: "inference-in-confidential-runtime-class",
  description:
    "Outside dev, the inference runtime's pods run in a confidential RuntimeClass (an SEV-SNP guest), never as plain pods.",
  enforcementLevel: "mandatory",
  configSchema: RUNTIME_CLASS_SCHEMA,
  validateResource: (args, reportViolation) => {
    const pod = runtimePod(args);
    const env = environmentOf(args.props);
    if (pod === undefined || env === "dev") return;
    const { spec, allowed } = pod;
    const rc = spec["runtimeClassName"];
    if (typeof rc !== "string" || !allowed.includes(rc)) {
      reportViolation(
        `inference runtime in ${env ?? "an unlabelled environment"} runs with runtimeClassName ${JSON.stringify(rc ?? null)}, not one of ${allowed.join(", ")}`,
      );
    }
  },
};

/**
 * A runtime pod in a confidential RuntimeClass carries Kata initdata that pins its own image: the
 * Kata guest's measurement is the same for every pod, so without it HOST_DATA binds no workload and
 * any container in that guest would attest.
 */
export const confidentialPodBindsHostData: ResourceValidationPolicy = {
  name: "confidential-pod-binds-host-data",
  description:
    "A confidential runtime pod carries Kata initdata (io.katacontainers.config.hypervisor.cc_init_data) that pins its image, so its HOST_DATA binds the workload the golden manifest expects.",
  enforcementLevel: "mandatory",
  configSchema: RUNTIME_CLASS_SCHEMA,
  validateResource: (args, reportViolation) => {
    const pod = runtimePod(args);
    if (pod === undefined) return;
    const { spec, allowed } = pod;
    const rc = spec["runtimeClassName"];
    if (typeof rc !== "string" || !allowed.includes(rc)) return;
    const meta =
      args.type === "kubernetes:core/v1:Pod"
        ? obj(args.props["metadata"])
        : obj(obj(obj(args.props["spec"])["template"])["metadata"]);
    const value = obj(meta["annotations"])[KATA_INITDATA_ANNOTATION];
    if (value === "[unknown]") return;
    if (typeof value !== "string") {
      reportViolation(
        `inference runtime in ${rc} has no ${KATA_INITDATA_ANNOTATION} annotation: its HOST_DATA would bind no workload`,
      );
      return;
    }
    let toml: string;
    try {
      toml = gunzipSync(Buffer.from(value, "base64")).toString("utf8");
    } catch {
      reportViolation(`${KATA_INITDATA_ANNOTATION} is not base64 of gzip`);
      return;
    }
    for (const c of arr(spec["containers"]).map(obj))
      if (typeof c["image"] === "string" && !toml.includes(`runtime_image := ${JSON.stringify(c["image"])}`))
        reportViolation(`the Kata initdata does not pin container ${String(c["name"])}'s image ${c["image"]}`);
  },
};
