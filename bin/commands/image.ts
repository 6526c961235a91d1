/**
 * `attestctl image build --target oci [--out DIR] [--json]`: the OCI images of the inference runtime,
 * the gateway and the key broker, built without a container daemon from the compiled code under
 * dist/ and the inputs pinned in images/lock.json, byte for byte reproducibly. Prints each image's
 * digest and the stack config lines that pin it. Exit 0, 1 build failure, 2 usage.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildGuestImage, buildImages, ImageError } from "../../images/index.js";
import { isVcpuType } from "../../measurements/snp/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";

const PROJECT_ROOT = resolve(__dirname, "..", "..");

/** The `--help` text. */
export const IMAGE_USAGE = `usage: attestctl image build --target oci [--out DIR] [--model NAME=DIR]... [--registry PREFIX] [--json]
       attestctl image build --target guest --runtime-config FILE [--out DIR] [--vcpus N] [--vcpu-type TYPE] [--json]

Build the OCI images of the three services (runtime, gateway, keybroker) into one OCI image layout,
without a container daemon: a C runtime base from pinned Debian packages, the pinned Node.js binary
and the service's compiled code with only the native addons it needs; non-root user 10001, no shell.
Two builds of the same commit give the same digests (uncompressed layers, fixed metadata).

  --target oci        the services' OCI images
  --target guest      a confidential guest's launch artifacts: the pinned Debian kernel and an initramfs
                      (cpio newc) with /init, Node.js, the compiled runtime and --runtime-config (its trust
                      configuration); no root file system. Writes vmlinuz, initrd.cpio, cmdline,
                      manifest.json (inputs, SHA-256s, the SNP launch digest) and pins.yaml
  --runtime-config F  (guest) the runtime's runtime.json, built into the initramfs
  --vcpus N, --vcpu-type T  (guest) the launch shape of the digest (default 4, EPYC-v4)
  --out DIR           OCI layout directory, replaced (default: .images/oci)
  --model NAME=DIR    add a sealed model (scripts/seal-model.ts output) to the runtime image under
                      /opt/models/NAME/, as a fourth layer (repeatable; the code layers keep their digests)
  --registry PREFIX   registry path the stack pins use (default: registry.example.internal/confidential-inference)
  --json              print the result as JSON

Push with skopeo (Debian package skopeo), which keeps the digests:
  skopeo copy oci:.images/oci:runtime docker://REGISTRY/confidential-inference/runtime@DIGEST
`;

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        target: { type: "string" },
        out: { type: "string" },
        registry: { type: "string" },
        model: { type: "string", multiple: true },
        "runtime-config": { type: "string" },
        vcpus: { type: "string" },
        "vcpu-type": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    io.stderr(`attestctl image: ${(error as Error).message}\n\n${IMAGE_USAGE}`);
    return EXIT.usage;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout(IMAGE_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== "build") {
    io.stderr(`attestctl image: expected the subcommand build\n\n${IMAGE_USAGE}`);
    return EXIT.usage;
  }
  if (v.target === "guest") return guest(v, io);
  if (v.target !== "oci") {
    io.stderr(`attestctl image build: --target must be oci or guest\n\n${IMAGE_USAGE}`);
    return EXIT.usage;
  }
  const out = resolve(io.cwd, typeof v.out === "string" ? v.out : resolve(PROJECT_ROOT, ".images", "oci"));
  const registry = typeof v.registry === "string" ? v.registry : "registry.example.internal/confidential-inference";
  const models: Record<string, string> = {};
  for (const m of Array.isArray(v.model) ? v.model : []) {
    const eq = m.indexOf("=");
    if (eq <= 0 || eq === m.length - 1) {
      io.stderr(`attestctl image build: --model ${m}: expected NAME=DIR\n\n${IMAGE_USAGE}`);
      return EXIT.usage;
    }
    models[m.slice(0, eq)] = resolve(io.cwd, m.slice(eq + 1));
  }
  const started = Date.now();
  let built;
  try {
    built = await buildImages({ root: PROJECT_ROOT, out, models });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    io.stderr(`attestctl image build: ${e.code}: ${e.message}\n`);
    return EXIT.failed;
  }
  const refs = Object.fromEntries(built.images.map((i) => [i.name, `${registry}/${i.name}@${i.digest}`]));
  if (v.json === true) {
    io.stdout(`${JSON.stringify({ layout: out, images: built.images, refs }, null, 2)}\n`);
    return EXIT.ok;
  }
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  io.stdout(
    [
      `OCI layout ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      ...built.images.map((i) => `  ${i.name.padEnd(9)} ${i.digest}  ${mb(i.bytes)} in ${i.layers.length} layers`),
      "stack config pins:",
      `  inference.runtimeImage: ${refs.runtime}`,
      `  inference.gatewayImage: ${refs.gateway}`,
      `  keyBroker.image: ${refs.keybroker}`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}

async function guest(v: Record<string, string | boolean | string[] | undefined>, io: CliIo): Promise<number> {
  const usage = (why: string) => {
    io.stderr(`attestctl image build: ${why}\n\n${IMAGE_USAGE}`);
    return EXIT.usage;
  };
  if (typeof v["runtime-config"] !== "string") return usage("--target guest needs --runtime-config FILE");
  const vcpus = typeof v.vcpus === "string" ? Number(v.vcpus) : 4;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 512) return usage("--vcpus must be an integer from 1 to 512");
  const vcpuType = typeof v["vcpu-type"] === "string" ? v["vcpu-type"] : "EPYC-v4";
  if (!isVcpuType(vcpuType)) return usage(`--vcpu-type ${vcpuType} is not a known QEMU vCPU model`);
  let runtimeConfig: Buffer;
  try {
    runtimeConfig = readFileSync(resolve(io.cwd, v["runtime-config"]));
  } catch (e) {
    io.stderr(
      `attestctl image build: --runtime-config ${v["runtime-config"]}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}\n`,
    );
    return EXIT.failed;
  }
  const out = resolve(io.cwd, typeof v.out === "string" ? v.out : resolve(PROJECT_ROOT, ".images", "guest"));
  const started = Date.now();
  let built;
  try {
    built = await buildGuestImage({ root: PROJECT_ROOT, out, runtimeConfig, vcpus, vcpuType });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    io.stderr(`attestctl image build: ${e.code}: ${e.message}\n`);
    return EXIT.failed;
  }
  if (v.json === true) {
    io.stdout(`${JSON.stringify({ out, ...built }, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout(
    [
      `guest image ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  vmlinuz      sha256 ${built.kernel.sha256}  ${(built.kernel.size / 1e6).toFixed(1)} MB`,
      `  initrd.cpio  sha256 ${built.initrd.sha256}  ${(built.initrd.size / 1e6).toFixed(1)} MB`,
      `  cmdline      ${built.cmdline}`,
      `  measurement  ${built.measurement} (${built.launchShape.vcpus} x ${built.launchShape.vcpuType})`,
      `pins for the stack config: ${join(out, "pins.yaml")}; inputs: ${join(out, "manifest.json")}`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}

/** The `image` subcommand. */
export const command: Command = {
  name: "image",
  summary: "build the services' OCI images reproducibly (no container daemon)",
  run,
};
