/**
 * Component test harness: installs the recording mocks (one per test file; call before importing
 * anything that creates resources) and offers lookups over the registrations.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import { installRecorder, type Registration } from "../../stacks/render/recorder.js";
import { secretPaths, unwrapSecrets } from "../../stacks/render/serialize.js";
import { PROJECT } from "./pulumi-mocks.js";

/** Provider-computed outputs a test wants the mocks to return, by resource name. */
export type Computed = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
) => Record<string, unknown> | undefined;

/** The registrations of this test file, filled as resources are created. */
export let registrations: Registration[] = [];

/** Installs the recording mocks (not preview: every value is known). */
export async function setupMocks(
  computed?: Computed,
  config: Record<string, string> = {},
  secretKeys: string[] = [],
  stack = "test",
): Promise<void> {
  registrations = await installRecorder({
    project: PROJECT,
    stack,
    preview: false,
    config,
    secretKeys,
    ...(computed ? { computed } : {}),
  });
}

/** Lets pending registrations reach the mocks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** The registration of `type` named `name`; throws when absent. */
export function reg(type: string, name: string): Registration {
  const found = registrations.find((r) => r.type === type && r.name === name);
  if (found === undefined)
    throw new Error(`no ${type} named ${name}; have: ${registrations.map((r) => `${r.type}::${r.name}`).join(", ")}`);
  return found;
}

/** `type::name` of every child of the given parent, sorted (registration order depends on timing). */
export function children(parentType: string, parentName: string): string[] {
  return registrations
    .filter((r) => r.parent?.type === parentType && r.parent.name === parentName)
    .map((r) => `${r.type}::${r.name}`)
    .sort();
}

/** A registration's inputs with secrets unwrapped. */
export function plainInputs(r: Registration): any {
  return unwrapSecrets(r.inputs);
}

/** Paths of the secret inputs of a registration. */
export function secretInputs(r: Registration): string[] {
  return secretPaths(r.inputs);
}

/** A fake PEM for provider-computed keys and certificates (mocks only). */
export function fakePem(label: string, name: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(name).toString("base64")}\n-----END ${label}-----\n`;
}

/** Computed outputs of `@pulumi/tls` resources (keys and certificates the provider would make). */
export const tlsComputed: Computed = (type, name) => {
  if (type === "tls:index/privateKey:PrivateKey")
    return { privateKeyPem: fakePem("PRIVATE KEY", name), publicKeyPem: fakePem("PUBLIC KEY", name) };
  if (type === "tls:index/selfSignedCert:SelfSignedCert") return { certPem: fakePem("CERTIFICATE", name) };
  return undefined;
};

/** Resolves an output in a test. */
export function value<T>(output: { apply<U>(f: (t: T) => U): unknown }): Promise<T> {
  return new Promise((resolve) => {
    output.apply((v) => {
      resolve(v);
      return v;
    });
  });
}

/**
 * Constructs a component that must refuse its arguments: asserts `pulumi.InputPropertyError` with
 * `propertyPath` and `reason`, and that nothing but the component itself was registered.
 */
export async function expectRejectedBeforeChildren(
  componentType: string,
  construct: () => unknown,
  propertyPath: string,
  reason: string,
): Promise<void> {
  const before = registrations.length;
  let error: unknown;
  try {
    construct();
  } catch (e) {
    error = e;
  }
  expect(pulumi.InputPropertyError.isInstance(error)).toBe(true);
  expect(error).toMatchObject({ propertyPath, reason });
  await settle();
  expect(registrations.slice(before).map((r) => r.type)).toEqual([componentType]);
}
