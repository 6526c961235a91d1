/**
 * Argument validation shared by the components (STYLE rule 6): every problem is collected with its
 * property path, and the constructor throws before it creates any child resource.
 */
import * as pulumi from "@pulumi/pulumi";

/** One invalid argument. */
export interface ArgProblem {
  /** Path inside the args object, e.g. `ports.inference` or `artifacts.kernel.sha256`. */
  readonly propertyPath: string;
  /** What is wrong, in words the caller can act on. */
  readonly reason: string;
}

/**
 * Throws when `problems` is not empty: one problem as `pulumi.InputPropertyError` (its
 * `propertyPath` names the argument), several as `pulumi.InputPropertiesError` listing each.
 * The Pulumi engine prints both with the component's URN.
 */
export function throwIfInvalid(component: string, problems: readonly ArgProblem[]): void {
  const [first] = problems;
  if (first === undefined) return;
  if (problems.length === 1)
    throw new pulumi.InputPropertyError({ propertyPath: first.propertyPath, reason: first.reason });
  throw new pulumi.InputPropertiesError({
    message: `${component}: ${problems.length} invalid arguments`,
    errors: problems.map((p) => ({ propertyPath: p.propertyPath, reason: p.reason })),
  });
}

/**
 * The plain value of an input when it is known at construction (not an `Output` or a promise),
 * else `undefined`. Arguments that arrive as outputs are validated by their producer.
 */
export function known<T>(input: pulumi.Input<T> | undefined): T | undefined {
  if (input === undefined || pulumi.Output.isInstance(input)) return undefined;
  if (typeof (input as { then?: unknown }).then === "function") return undefined;
  return input as T;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IMAGE_BY_DIGEST =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$/;

/** Adds a problem when a known value is not a DNS label (Kubernetes names, namespaces). */
export function checkDnsLabel(problems: ArgProblem[], path: string, value: pulumi.Input<string> | undefined): void {
  const v = known(value);
  if (v !== undefined && !DNS_LABEL.test(v))
    problems.push({ propertyPath: path, reason: `"${v}" is not a lower-case DNS label` });
}

/** Adds a problem when a known image reference is not pinned by digest. */
export function checkImageByDigest(
  problems: ArgProblem[],
  path: string,
  value: pulumi.Input<string> | undefined,
): void {
  const v = known(value);
  if (v !== undefined && !IMAGE_BY_DIGEST.test(v))
    problems.push({ propertyPath: path, reason: "image must be pinned by digest (name@sha256:<64 hex>)" });
}

/** Adds a problem when a known port is not 1-65535. */
export function checkPort(problems: ArgProblem[], path: string, value: pulumi.Input<number> | undefined): void {
  const v = known(value);
  if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 65535))
    problems.push({ propertyPath: path, reason: "must be a port number (1-65535)" });
}

/** Adds a problem when a known count is not an integer in [min, max]. */
export function checkCount(
  problems: ArgProblem[],
  path: string,
  value: pulumi.Input<number> | undefined,
  min: number,
  max: number,
): void {
  const v = known(value);
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
    problems.push({ propertyPath: path, reason: `must be an integer between ${min} and ${max}` });
}
