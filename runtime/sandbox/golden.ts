/**
 * The sandbox's golden manifest: the dev stack's launch shape (`stacks/Pulumi.dev.yaml`, the same
 * inputs `attestctl golden compute` reads), measured by `measurements/snp` from the committed OVMF
 * and the rebuilt guest artifacts, with the sandbox's sealed model and tokenizer pinned in place of
 * the dev stack's model pins, marked active and signed ES384 with the sandbox's release key.
 */
import { createHash, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { loadGoldenConfig } from "../../stacks/index.js";
import {
  buildManifest,
  type GoldenInputs,
  type LaunchShapeSpec,
  keyThumbprint,
  signManifest,
  softwareSigner,
  snpLaunchDigest,
  type ArtifactPin,
  type GoldenManifest,
} from "../../measurements/manifest/index.js";
import { SandboxError } from "./errors.js";
import { DEV_GUEST_ARTIFACTS, dummyArtifact } from "./guest.js";
import { PROJECT_ROOT } from "./layout.js";

/** The dev stack file the sandbox measures. */
export const DEV_STACK_FILE = join(PROJECT_ROOT, "stacks", "Pulumi.dev.yaml");

/** What a tampered guest changes: one more kernel argument (a root shell instead of init). */
export const TAMPERED_CMDLINE_SUFFIX = " init=/bin/sh";

/** The sandbox's files that stand in for the dev stack's model artifacts. */
export interface SandboxModelFiles {
  /** The sealed container bytes (`*.onnx.enc`). */
  readonly container: Uint8Array;
  /** `tokenizer.json` bytes. */
  readonly tokenizer: Uint8Array;
}

/** The computed manifest and what the sandbox needs from it. */
export interface SandboxGolden {
  readonly manifest: GoldenManifest;
  readonly launchShape: string;
  readonly measurement: string;
  readonly tamperedMeasurement: string;
  readonly tamperedCmdline: string;
  /** Guest artifact bytes by file role (written to `.sandbox/guest/`). */
  readonly guest: { readonly kernel: Buffer; readonly initrd: Buffer };
}

function pin(kind: ArtifactPin["kind"], bytes: Uint8Array, source: string): ArtifactPin {
  return { kind, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, source };
}

/**
 * Computes the manifest from the dev stack (first launch shape). Throws PROVISION_FAILED naming
 * the stack file when it cannot be read or measured.
 */
export function computeSandboxGolden(model: SandboxModelFiles, stackFile = DEV_STACK_FILE): SandboxGolden {
  let source;
  try {
    source = loadGoldenConfig(stackFile, PROJECT_ROOT);
  } catch (e) {
    throw new SandboxError("PROVISION_FAILED", `reading the dev stack ${stackFile}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const shape: LaunchShapeSpec | undefined = source.inputs.launchShapes[0];
  if (shape === undefined) throw new SandboxError("PROVISION_FAILED", `${stackFile} has no launch shape`);
  const kernel = dummyArtifact(DEV_GUEST_ARTIFACTS["kernel-dev"].label, DEV_GUEST_ARTIFACTS["kernel-dev"].size);
  const initrd = dummyArtifact(DEV_GUEST_ARTIFACTS["initrd-dev"].label, DEV_GUEST_ARTIFACTS["initrd-dev"].size);
  const artifacts: Record<string, ArtifactPin> = { ...source.inputs.artifacts };
  const bytes = new Map(source.artifactBytes);
  if (shape.kernel !== undefined) bytes.set(shape.kernel, kernel);
  if (shape.initrd !== undefined) bytes.set(shape.initrd, initrd);
  for (const [name, a] of Object.entries(source.inputs.artifacts)) {
    if (a.kind === "model")
      artifacts[name] = pin(
        "model",
        model.container,
        "sandbox: bundled sentiment classifier, sealed with a sandbox data key",
      );
    if (a.kind === "tokenizer")
      artifacts[name] = pin("tokenizer", model.tokenizer, "sandbox: bundled WordPiece tokenizer.json");
  }
  for (const [name, a] of Object.entries(artifacts))
    if (a.kind === "model" || a.kind === "tokenizer")
      bytes.set(name, a.kind === "model" ? model.container : model.tokenizer);
  const inputs: GoldenInputs = {
    ...source.inputs,
    release: `${source.inputs.release}-sandbox`,
    artifacts,
    launchShapes: [shape],
  };
  let manifest: GoldenManifest;
  try {
    manifest = buildManifest(inputs, {
      createdAt: source.createdAt ?? new Date(0),
      status: "active",
      artifactBytes: bytes,
      calculator: snpLaunchDigest,
    });
  } catch (e) {
    throw new SandboxError(
      "PROVISION_FAILED",
      `computing the golden manifest of ${stackFile}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const firmware = source.artifactBytes.get(shape.firmware);
  const tamperedCmdline = `${shape.cmdline ?? ""}${TAMPERED_CMDLINE_SUFFIX}`.trim();
  const tampered = snpLaunchDigest({
    shape: { ...shape, cmdline: tamperedCmdline },
    firmware: firmware ?? new Uint8Array(),
    ...(shape.kernel !== undefined ? { kernelSha256: artifacts[shape.kernel]?.sha256 } : {}),
    ...(shape.initrd !== undefined ? { initrdSha256: artifacts[shape.initrd]?.sha256 } : {}),
  });
  const measurement = manifest.launchShapes[shape.name]?.measurement ?? "";
  return {
    manifest,
    launchShape: shape.name,
    measurement,
    tamperedMeasurement: tampered.measurement,
    tamperedCmdline,
    guest: { kernel, initrd },
  };
}

/** Signs the manifest with the release key (kid: its RFC 7638 thumbprint). */
export async function signSandboxManifest(manifest: GoldenManifest, releaseKey: KeyObject): Promise<string> {
  return signManifest(manifest, softwareSigner(releaseKey, await keyThumbprint(releaseKey)));
}
