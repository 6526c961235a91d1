/**
 * Guardrails on workloads: images pinned by digest; the inference runtime inside a confidential
 * RuntimeClass outside dev.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { LABEL, WORKLOADS } from "../components/index.js";
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

/** In staging and prod the inference runtime must run in a confidential RuntimeClass. */
export const confidentialRuntimeClass: ResourceValidationPolicy = {
  name: "inference-in-confidential-runtime-class",
  description:
    "Outside dev, the inference runtime's pods run in a confidential RuntimeClass (an SEV-SNP guest), never as plain pods.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { confidentialRuntimeClasses: { type: "array", items: { type: "string" } } } },
  validateResource: (args, reportViolation) => {
    if (!WORKLOAD_TYPES.has(args.type)) return;
    if (podLabels(args.type, args.props)[LABEL.name] !== WORKLOADS.runtime) return;
    const env = environmentOf(args.props);
    if (env === "dev") return;
    const allowed =
      args.getConfig<RuntimeClassConfig>().confidentialRuntimeClasses ?? DEFAULT_CONFIDENTIAL_RUNTIME_CLASSES;
    const rc = podSpec(args.type, args.props)["runtimeClassName"];
    if (typeof rc !== "string" || !allowed.includes(rc)) {
      reportViolation(
        `inference runtime in ${env ?? "an unlabelled environment"} runs with runtimeClassName ${JSON.stringify(rc ?? null)}, not one of ${allowed.join(", ")}`,
      );
    }
  },
};
