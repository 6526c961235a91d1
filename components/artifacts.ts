/**
 * Staging pinned artifacts (firmware, kernels, initrds) on a host through `scripts/stage-artifact.sh`:
 * uploaded from the deploy machine when a local copy exists, else downloaded on the host, always
 * verified against the pinned SHA-256 and size, kept once per host in a content-addressed store and
 * hard-linked where a guest uses them.
 */
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ArgProblem } from "./args.js";
import { readScript, remoteScript } from "./shell.js";

/** An artifact pinned by content. */
export interface PinnedArtifact {
  /** Artifact name from the stack config (`kernel-6.12-cvm`). */
  readonly name: string;
  /** SHA-256 of the exact bytes, 64 lower-case hex. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
  /** Where the bytes come from; an `https://` URL is downloaded on the host when there is no local copy. */
  readonly source: string;
  /** Local path on the deploy machine; present: uploaded over SSH instead of downloaded. */
  readonly localPath?: string;
}

/** Where and how to reach a prepared host (from `SevSnpHost.target`). */
export interface HostTarget {
  /** Host name from the stack config, used in resource names and messages. */
  readonly name: string;
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** State directory on the host (`/var/lib/confidential-inference`). */
  readonly stateDir: string;
  /** Whether commands need `sudo -n` (the SSH user is not root). */
  readonly sudo: boolean;
  /** Resources that must exist before guests use the host (QEMU checked, firmware staged). */
  readonly ready: pulumi.Resource[];
}

const STAGE_SCRIPT = readScript("host/scripts/stage-artifact.sh");

/** SHA-256 of a script's text, used as a trigger so an edited script re-runs. */
export function scriptDigest(script: string): string {
  return createHash("sha256").update(script).digest("hex");
}

/** Content-addressed path of an artifact in a host's store. */
export function storePath(stateDir: string, sha256: string): string {
  return `${stateDir}/artifacts/sha256/${sha256}`;
}

/** Adds problems for an artifact that cannot be staged as given. */
export function checkArtifact(problems: ArgProblem[], path: string, a: PinnedArtifact, needsBytes: boolean): void {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(a.name))
    problems.push({ propertyPath: `${path}.name`, reason: "must be an artifact name (a-z, 0-9, '.', '_', '-')" });
  if (!/^[0-9a-f]{64}$/.test(a.sha256))
    problems.push({ propertyPath: `${path}.sha256`, reason: "must be a lower-case hex SHA-256" });
  if (!(Number.isSafeInteger(a.size) && a.size > 0))
    problems.push({ propertyPath: `${path}.size`, reason: "must be a positive size in bytes" });
  if (needsBytes && a.localPath === undefined && !a.source.startsWith("https://")) {
    problems.push({
      propertyPath: `${path}.source`,
      reason: `"${a.source}" cannot be downloaded on the host: give the artifact a local path or an https:// source`,
    });
  }
}

/**
 * Stages `artifact` on `host` and links it at `link`. Creates `<name>-upload` (CopyToRemote, when
 * the artifact has a local path) and `<name>` (the staging command, with an idempotent delete that
 * removes the link and, once unused, the stored copy). A changed pin or script replaces the command.
 */
export function stageArtifact(
  name: string,
  host: HostTarget,
  artifact: PinnedArtifact,
  link: string,
  opts: { parent: pulumi.Resource; dependsOn?: pulumi.Resource[]; fromStoreOnly?: boolean },
): command.remote.Command {
  const incoming = `/var/tmp/confidential-inference-incoming-${artifact.sha256}`;
  const deps: pulumi.Resource[] = [...(opts.dependsOn ?? [])];
  const env: Record<string, string> = {
    NAME: artifact.name,
    SHA256: artifact.sha256,
    SIZE: String(artifact.size),
    LINK: link,
    STATE_DIR: host.stateDir,
  };
  if (!opts.fromStoreOnly) {
    if (artifact.localPath !== undefined) {
      deps.push(
        new command.remote.CopyToRemote(
          `${name}-upload`,
          {
            connection: host.connection,
            source: new pulumi.asset.FileAsset(artifact.localPath),
            remotePath: incoming,
            triggers: [artifact.sha256],
          },
          { parent: opts.parent, dependsOn: opts.dependsOn ?? [] },
        ),
      );
      env["INCOMING"] = incoming;
    } else {
      env["SOURCE_URL"] = artifact.source;
    }
  }
  return new command.remote.Command(
    name,
    {
      connection: host.connection,
      create: remoteScript("stage-artifact", STAGE_SCRIPT, env, host.sudo),
      delete: remoteScript("stage-artifact", STAGE_SCRIPT, { ...env, ACTION: "delete" }, host.sudo),
      triggers: [artifact.sha256, artifact.size, link, scriptDigest(STAGE_SCRIPT)],
      // The replacement links the same path: the old delete must run first, or it would unlink the new copy.
    },
    { parent: opts.parent, dependsOn: deps, deleteBeforeReplace: true },
  );
}
