/**
 * Small readers over resource properties as CrossGuard passes them (plain JSON; values a preview
 * does not know yet may be absent or, in `attestctl render` output, the string `[unknown]`).
 */
import { LABEL } from "../components/index.js";

/** Kubernetes workload kinds whose pod templates the policies inspect. */
export const WORKLOAD_TYPES = new Set([
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:core/v1:Pod",
]);

/** A JSON object, or an empty one. */
export function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A JSON array, or an empty one. */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The labels of a Kubernetes object. */
export function labels(props: Record<string, unknown>): Record<string, string> {
  return obj(obj(props["metadata"])["labels"]) as Record<string, string>;
}

/** The environment label (`dev`, `staging`, `prod`) of a Kubernetes object, if any. */
export function environmentOf(props: Record<string, unknown>): string | undefined {
  return labels(props)[LABEL.environment];
}

/** The pod spec of a workload (a Pod's own spec, or a controller's template spec). */
export function podSpec(type: string, props: Record<string, unknown>): Record<string, unknown> {
  const spec = obj(props["spec"]);
  if (type === "kubernetes:core/v1:Pod") return spec;
  return obj(obj(spec["template"])["spec"]);
}

/** The pod template labels of a workload. */
export function podLabels(type: string, props: Record<string, unknown>): Record<string, string> {
  if (type === "kubernetes:core/v1:Pod") return labels(props);
  return obj(obj(obj(obj(props["spec"])["template"])["metadata"])["labels"]) as Record<string, string>;
}

/** Parses a JSON document held in a string property; undefined when absent, unknown or invalid. */
export function jsonIn(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "string" || value === "[unknown]") return undefined;
  try {
    return obj(JSON.parse(value));
  } catch {
    return undefined;
  }
}
