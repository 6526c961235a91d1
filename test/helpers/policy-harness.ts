/**
 * A small harness for CrossGuard policies (no official one exists): calls a policy's
 * `validateResource` for every resource, or its `validateStack` once, with the arguments the
 * engine would pass, and collects the violations.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/** A resource as a policy sees it. */
export interface PolicyInput {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}

/** One reported violation. */
export interface Violation {
  readonly policy: string;
  readonly resource?: string;
  readonly message: string;
}

class NotApplicable extends Error {}

function urn(r: PolicyInput): string {
  return `urn:pulumi:test::confidential-inference::${r.type}::${r.name}`;
}

const common = (config: object) => ({
  stackTags: new Map<string, string>(),
  getConfig: <T extends object>() => config as T,
  notApplicable: (reason?: string): never => {
    throw new NotApplicable(reason);
  },
});

/** Runs one policy over `resources` and returns its violations. */
export async function runPolicy(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: readonly PolicyInput[],
  config: object = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const report = (resource: string | undefined) => (message: string, violatingUrn?: string) => {
    const name = violatingUrn?.split("::").at(-1) ?? resource;
    violations.push({ policy: policy.name, ...(name === undefined ? {} : { resource: name }), message });
  };
  try {
    if ("validateStack" in policy) {
      const all: PolicyResource[] = resources.map(
        (r) =>
          ({
            type: r.type,
            name: r.name,
            props: r.props,
            urn: urn(r),
            opts: {} as PolicyResource["opts"],
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
          }) as unknown as PolicyResource,
      );
      await policy.validateStack({ resources: all, ...common(config) }, report(undefined));
    } else {
      const validations =
        policy.validateResource === undefined
          ? []
          : Array.isArray(policy.validateResource)
            ? policy.validateResource
            : [policy.validateResource];
      for (const r of resources) {
        for (const validate of validations) {
          await validate(
            {
              type: r.type,
              name: r.name,
              props: r.props,
              urn: urn(r),
              opts: {} as never,
              isType: () => false,
              asType: () => undefined,
              ...common(config),
            },
            report(r.name),
          );
        }
      }
    }
  } catch (error) {
    if (!(error instanceof NotApplicable)) throw error;
  }
  return violations;
}

/** Runs every policy and concatenates the violations. */
export async function runPolicies(
  policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[],
  resources: readonly PolicyInput[],
  config: Record<string, object> = {},
): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const p of policies) out.push(...(await runPolicy(p, resources, config[p.name] ?? {})));
  return out;
}
