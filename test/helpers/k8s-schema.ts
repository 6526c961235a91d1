/**
 * Validates rendered Kubernetes objects against the Kubernetes OpenAPI schema through
 * kubernetes-models (types, required fields, enums, formats). Unknown fields are caught at compile
 * time by the typed Pulumi inputs.
 */
import { unwrapSecrets } from "../../stacks/render/serialize.js";
import type { Registration } from "../../stacks/render/recorder.js";

interface Validatable {
  validate(): void;
}

/** kubernetes-models module of a Pulumi Kubernetes type token, e.g. `kubernetes:apps/v1:Deployment`. */
export function modelPath(type: string): { path: string; kind: string } | undefined {
  const m = /^kubernetes:([^/:]+)\/([^:]+):(\w+)$/.exec(type);
  if (!m) return undefined;
  const [, group, version, kind] = m as unknown as [string, string, string, string];
  return {
    path: group === "core" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`,
    kind,
  };
}

/** Validates one registration; throws the schema error (with the resource named) when invalid. */
export function validateK8s(r: Registration): void {
  const where = modelPath(r.type);
  if (where === undefined) throw new Error(`${r.type} is not a Kubernetes type`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(where.path) as Record<string, new (data: unknown) => Validatable>;
  const Model = mod[where.kind];
  if (Model === undefined) throw new Error(`kubernetes-models has no ${where.kind}`);
  try {
    new Model(unwrapSecrets(r.inputs)).validate();
  } catch (error) {
    throw new Error(`${r.type} ${r.name}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Every Kubernetes registration in `registrations` that kubernetes-models has a schema for: the
 * Prometheus Operator's custom resources (monitoring.coreos.com) are checked by their own tests.
 */
export function k8sRegistrations(registrations: readonly Registration[]): Registration[] {
  return registrations.filter(
    (r) =>
      r.type.startsWith("kubernetes:") &&
      !r.type.startsWith("pulumi:providers") &&
      !r.type.startsWith("kubernetes:monitoring.coreos.com/"),
  );
}
