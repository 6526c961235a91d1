/**
 * Pulumi mocks for component and program tests. Call `installMocks()` before importing any module
 * that creates resources (import programs with `await import()` afterwards), one per test file.
 */
import * as pulumi from "@pulumi/pulumi";

/** One resource registration seen by the mocks. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** Everything registered so far, in registration order. */
export const recorded: RecordedResource[] = [];

/** The project name Pulumi.yaml declares (config keys are read in this namespace). */
export const PROJECT = "confidential-inference";

/**
 * Installs mocks that record each resource and echo its inputs as outputs.
 * @param config - the stack's config map (`namespace:key` -> engine string).
 * @param secretKeys - keys Pulumi would mark secret.
 */
export async function installMocks(
  config: Record<string, string>,
  secretKeys: Iterable<string> = [],
  stack = "test",
): Promise<void> {
  pulumi.runtime.setAllConfig(config, [...secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    false,
  );
}

/** Resolves a Pulumi output (or plain value) for assertions. */
export function resolve<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((done) =>
    pulumi.output(value).apply((v) => {
      done(v as T);
      return v;
    }),
  );
}
