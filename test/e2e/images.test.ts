/**
 * The OCI images are proven, not only built: `attestctl image build --target oci`, then
 * `attestctl sandbox up --images` unpacks the key broker, runtime and gateway images (no container
 * runtime) and runs each service as a separate process from its image's own dynamic loader, C
 * runtime, Node.js binary, compiled code and native addons (SoftHSM2 for the broker, onnxruntime for
 * the runtime); the runtime attests, gets its key, and an inference is served end to end encrypted
 * through the gateway. No timing is asserted.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLayout } from "../../images/index.js";
import { sandboxLayout } from "../../runtime/sandbox/layout.js";
import { runCli } from "../helpers/cli.js";
import { readJson, sandboxCli, startSandbox, stopSandbox, type RunningSandbox } from "../helpers/sandbox.js";
import { requireTool } from "../helpers/system-tools.js";

const dir = mkdtempSync(join(tmpdir(), "ci-images-e2e-"));
const layout = join(dir, "oci");
const sandboxDir = join(dir, "sandbox");
let sandbox: RunningSandbox;

beforeAll(async () => {
  requireTool("softhsm2");
  const built = await runCli(["image", "build", "--target", "oci", "--out", layout]);
  expect(built.code, built.stderr).toBe(0);
  sandbox = await startSandbox(sandboxDir, 900_000, ["--images", layout]);
}, 960_000);

afterAll(async () => {
  if (sandbox) await stopSandbox(sandbox);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("services booted from their OCI images (unpacked, no container runtime)", () => {
  it("runs each service from its own image: loader, Node.js binary and code under DIR/images/<service>", () => {
    const digests = new Map(readLayout(layout).map((i) => [i.name, i.digest]));
    expect(sandbox.output()).toContain(`runtime ${digests.get("runtime")!.slice(0, 19)}…`);
    const state = readJson(sandboxLayout(sandboxDir).run.state);
    for (const name of ["keybroker", "runtime", "gateway"] as const) {
      const rootfs = join(sandboxDir, "images", name);
      const argv = readFileSync(`/proc/${state.services[name].pid}/cmdline`, "utf8").split("\0");
      expect(argv.slice(0, 5)).toEqual([
        join(rootfs, "usr/lib64/ld-linux-x86-64.so.2"),
        "--library-path",
        join(rootfs, "usr/lib/x86_64-linux-gnu"),
        join(rootfs, "usr/local/bin/node"),
        join(rootfs, "app/main.js"),
      ]);
      const maps = readFileSync(`/proc/${state.services[name].pid}/maps`, "utf8");
      // the C runtime and C++ runtime mapped are the image's, never the host's
      expect(maps).toContain(join(rootfs, "usr/lib/x86_64-linux-gnu/libc.so.6"));
      expect(maps).toContain(join(rootfs, "usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.33"));
      expect(maps).not.toMatch(/ \/(usr\/)?lib\/x86_64-linux-gnu\/libc\.so\.6\n/);
      expect(readlinkSync(`/proc/${state.services[name].pid}/cwd`)).toBe(join(rootfs, "app"));
    }
    const runtimeMaps = readFileSync(`/proc/${state.services.runtime.pid}/maps`, "utf8");
    expect(runtimeMaps).toContain(join(sandboxDir, "images/runtime/app/libonnxruntime.so.1"));
    const brokerMaps = readFileSync(`/proc/${state.services.keybroker.pid}/maps`, "utf8");
    // the HSM is the SoftHSM2 of the broker's image, with the image's libcrypto
    expect(brokerMaps).toContain(join(sandboxDir, "images/keybroker/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"));
    expect(brokerMaps).toContain(join(sandboxDir, "images/keybroker/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
    expect(brokerMaps).toContain(
      join(sandboxDir, "images/keybroker/app/node_modules/pkcs11js/build/Release/pkcs11.node"),
    );
  });

  it("serves an inference end to end encrypted through the gateway (the runtime attested and got its key)", async () => {
    const cli = await sandboxCli(sandboxDir, ["infer", "a wonderful, great product"]);
    expect(cli.code, cli.stderr).toBe(0);
    const labels = (JSON.parse(cli.stdout).outputs as Array<{ name: string; data: unknown[] }>).find(
      (o) => o.name === "label",
    )?.data;
    expect(labels).toEqual(["positive"]);
  }, 300_000);
});
