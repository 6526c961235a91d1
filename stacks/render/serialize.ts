/**
 * Turns recorded inputs and resolved outputs into plain, deterministic JSON for review: secrets
 * become `"[secret]"`, values unknown until deploy become `"[unknown]"`, assets show their path or
 * hash, object keys are sorted. Also unwraps secrets for tests that assert secretness.
 */
import * as pulumi from "@pulumi/pulumi";

/** What a masked secret looks like in rendered output. */
export const SECRET_MASK = "[secret]";
/** What a value computed only at deploy time looks like in rendered output. */
export const UNKNOWN_MASK = "[unknown]";

const SIG = pulumi.runtime.specialSigKey;
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** True when `v` is a secret as the mocks receive it. */
export function isWrappedSecret(v: unknown): v is { value: unknown } {
  return isRecord(v) && v[SIG] === pulumi.runtime.specialSecretSig;
}

function isUnknown(v: unknown): boolean {
  return v === UNKNOWN_SENTINEL || (isRecord(v) && v["__pulumiUnknown"] === true);
}

/** Masks secrets and unknowns and sorts keys (the rendered form). */
export function maskForReview(v: unknown): unknown {
  if (isWrappedSecret(v)) return SECRET_MASK;
  if (isUnknown(v)) return UNKNOWN_MASK;
  if (Array.isArray(v)) return v.map(maskForReview);
  if (isRecord(v)) {
    if (v["__pulumiAsset"] === true || v["__pulumiArchive"] === true)
      return { asset: "file (identified by its triggers)" };
    if (v[SIG] === pulumi.runtime.specialAssetSig || v[SIG] === pulumi.runtime.specialArchiveSig) {
      const where = v["path"] ?? v["uri"] ?? (v["text"] === undefined ? undefined : "<inline text>");
      return { asset: where ?? UNKNOWN_MASK };
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) out[key] = maskForReview(v[key]);
    return out;
  }
  return v;
}

/** Replaces every wrapped secret by its value (for assertions on what a provider would get). */
export function unwrapSecrets(v: unknown): unknown {
  if (isWrappedSecret(v)) return unwrapSecrets(v.value);
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

/** Paths (`a.b[0].c`) of every wrapped secret inside `v`, outermost first. */
export function secretPaths(v: unknown, path = ""): string[] {
  if (isWrappedSecret(v)) return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => secretPaths(x, `${path}[${i}]`));
  if (isRecord(v)) return Object.entries(v).flatMap(([k, x]) => secretPaths(x, path === "" ? k : `${path}.${k}`));
  return [];
}

/** Resolves an output to `{ known, secret, value }` without hanging on unknowns. */
export async function inspectOutput(value: unknown): Promise<{ known: boolean; secret: boolean; value: unknown }> {
  if (!pulumi.Output.isInstance(value)) return { known: true, secret: false, value };
  const out = value as pulumi.Output<unknown> & {
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
    promise(): Promise<unknown>;
  };
  const [known, secret] = await Promise.all([out.isKnown, out.isSecret]);
  return { known, secret, value: known ? await out.promise() : undefined };
}

/**
 * The rendered form of a stack output: secret -> `"[secret]"`, unknown -> `"[unknown]"`, nested
 * outputs resolved and masked the same way.
 */
export async function renderOutput(value: unknown): Promise<unknown> {
  const { known, secret, value: v } = await inspectOutput(value);
  if (secret) return SECRET_MASK;
  if (!known) return UNKNOWN_MASK;
  if (Array.isArray(v)) return Promise.all(v.map(renderOutput));
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) out[key] = await renderOutput(v[key]);
    return out;
  }
  return v;
}
