/**
 * The Kata initdata of a confidential runtime pod: the document the host hands to the Kata guest at
 * launch (annotation `io.katacontainers.config.hypervisor.cc_init_data`) and whose digest the SEV-SNP
 * firmware records as HOST_DATA (Trustee's rule: SHA-384 of the TOML text, first 32 bytes). The
 * Kata guest's measurement (firmware, kernel, initrd) is the same for every pod, so this is what binds
 * *our* workload: its `policy.rego` makes the Kata agent refuse any container but the runtime image
 * pinned by digest with its exact command, environment names and mounts, and refuses exec, log
 * streams, stdin and file copies outside the shared config, which an operator would use to look
 * inside; `aa.toml` and `cdh.toml` point the guest's attestation agent at the key broker. The golden
 * manifest records the HOST_DATA (`launchShapes.<name>.hostData`), so a pod with another image,
 * command or policy gets a different HOST_DATA and no key. Pure: the stack program and the golden
 * inputs call the same function with the same config and get the same bytes.
 */
import { gzipSync } from "node:zlib";
import { initDataDigest } from "../../runtime/kbs-protocol/index.js";

/** The pod annotation Kata reads the initdata from (gzip, then base64). */
export const KATA_INITDATA_ANNOTATION = "io.katacontainers.config.hypervisor.cc_init_data";

/** What the runtime pod's initdata pins. */
export interface RuntimeInitDataSpec {
  /** The runtime image, by digest (`registry/.../runtime@sha256:...`). */
  readonly image: string;
  /** The key broker's KBS URL (the attestation agent's). */
  readonly brokerUrl: string;
  /** The container's arguments after the image's entrypoint. */
  readonly args: readonly string[];
  /** Mount destinations the runtime container may have besides the ones every container gets. */
  readonly mounts: readonly string[];
}

/** A built initdata document. */
export interface KataInitData {
  /** The TOML document (its UTF-8 bytes are what is hashed). */
  readonly toml: string;
  /** The annotation value: base64 of the gzip of `toml` (stored blocks: the same bytes with any zlib). */
  readonly annotation: string;
  /** The HOST_DATA the guest carries: 64 hex. */
  readonly hostData: string;
  /** The full SHA-384 digest (what Trustee's claims and a TDX MRCONFIGID name), 96 hex. */
  readonly digest: string;
}

/** Environment the image and Kubernetes set; anything else is refused (e.g. NODE_OPTIONS). */
const ENV_NAMES = ["PATH", "NODE_ENV", "HOSTNAME", "TERM", "HOME"];

/** Mounts every container gets from the runtime (procfs, devices, hostname, DNS, termination log). */
const STANDARD_MOUNTS = [
  "/proc",
  "/dev",
  "/dev/pts",
  "/dev/shm",
  "/dev/mqueue",
  "/sys",
  "/sys/fs/cgroup",
  "/etc/hosts",
  "/etc/hostname",
  "/etc/resolv.conf",
  "/dev/termination-log",
];

const rego = (v: unknown) => JSON.stringify(v);

function agentPolicy(spec: RuntimeInitDataSpec): string {
  const mounts = [...new Set([...STANDARD_MOUNTS, ...spec.mounts])].sort();
  return `package agent_policy

import future.keywords.every
import future.keywords.if
import future.keywords.in

# confidential-inference runtime pod: only the pinned runtime runs; nothing reads its memory.
default CreateContainerRequest := false
default ExecProcessRequest := false
default ReadStreamRequest := false
default WriteStreamRequest := false
default CloseStdinRequest := false
default TtyWinResizeRequest := false
default SetPolicyRequest := false
default StartTracingRequest := false
default StopTracingRequest := false
default PauseContainerRequest := false
default ResumeContainerRequest := false
default UpdateContainerRequest := false
default MemHotplugByProbeRequest := false
default ReseedRandomDevRequest := false
default SetGuestDateTimeRequest := false
default AddSwapRequest := false
default CopyFileRequest := false
default CreateSandboxRequest := true
default DestroySandboxRequest := true
default StartContainerRequest := true
default RemoveContainerRequest := true
default WaitProcessRequest := true
default SignalProcessRequest := true
default StatsContainerRequest := true
default GetOOMEventRequest := true
default GuestDetailsRequest := true
default OnlineCPUMemRequest := true
default PullImageRequest := true
default ListInterfacesRequest := true
default ListRoutesRequest := true
default UpdateInterfaceRequest := true
default UpdateRoutesRequest := true
default AddARPNeighborsRequest := true
default UpdateEphemeralMountsRequest := false
default RemoveStaleVirtiofsShareMountsRequest := true

runtime_image := ${rego(spec.image)}
runtime_args := ${rego(["/usr/local/bin/node", "/app/main.js", ...spec.args])}
env_names := ${rego(ENV_NAMES)}
mount_destinations := ${rego(mounts)}

# The pod's sandbox (pause) container.
CreateContainerRequest if {
  input.OCI.Annotations["io.kubernetes.cri.container-type"] == "sandbox"
}

# The runtime container: the pinned image, command, environment names and mounts, nothing else.
CreateContainerRequest if {
  input.OCI.Annotations["io.kubernetes.cri.container-type"] == "container"
  input.OCI.Annotations["io.kubernetes.cri.image-name"] == runtime_image
  input.OCI.Process.Args == runtime_args
  every e in input.OCI.Process.Env {
    allowed_env(e)
  }
  every m in input.OCI.Mounts {
    m.destination in mount_destinations
  }
}

allowed_env(e) if {
  name := split(e, "=")[0]
  name in env_names
}

# Kubernetes service links (FOO_SERVICE_HOST, FOO_PORT_443_TCP, ...): addresses only.
allowed_env(e) if {
  regex.match("^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)=", e)
}

# Config maps reach the guest as copied files under the shared directory, nowhere else.
CopyFileRequest if {
  startswith(input.path, "/run/kata-containers/shared/containers/")
}
`;
}

/**
 * Builds the initdata of a confidential runtime pod (see the file comment).
 *
 * @example runtimeInitData({ image: "reg/runtime@sha256:...", brokerUrl: "https://key-broker.ci-keys.svc.cluster.local:8444", args: ["--config", "/etc/confidential-inference/runtime.json"], mounts: ["/etc/confidential-inference", "/tmp"] }).hostData
 */
export function runtimeInitData(spec: RuntimeInitDataSpec): KataInitData {
  const aa = `[token_configs.kbs]\nurl = ${rego(spec.brokerUrl)}\n`;
  const cdh = `[kbc]\nname = "cc_kbc"\nurl = ${rego(spec.brokerUrl)}\n`;
  const policy = agentPolicy(spec);
  for (const [name, text] of [
    ["aa.toml", aa],
    ["cdh.toml", cdh],
    ["policy.rego", policy],
  ] as const)
    if (text.includes("'''")) throw new TypeError(`runtimeInitData: ${name} may not contain '''`);
  const toml = [
    'version = "0.1.0"',
    'algorithm = "sha384"',
    "",
    "[data]",
    `"aa.toml" = '''\n${aa}'''`,
    "",
    `"cdh.toml" = '''\n${cdh}'''`,
    "",
    `"policy.rego" = '''\n${policy}'''`,
    "",
  ].join("\n");
  const d = initDataDigest({ format: "toml", body: toml }, "initdata");
  if (!d.ok) throw new TypeError(`runtimeInitData: ${d.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return {
    toml,
    annotation: gzipSync(Buffer.from(toml, "utf8"), { level: 0 }).toString("base64"),
    hostData: d.hostData.toString("hex"),
    digest: d.digest,
  };
}
