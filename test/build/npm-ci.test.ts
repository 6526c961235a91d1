/**
 * `npm ci` with npm 10 on a machine that reaches nothing but the npm registry. npm 10 ignores
 * `allowScripts`, so every install script runs; the committed `.npmrc` must stop onnxruntime-node's
 * postinstall (a CUDA download from outside the registry). Every request to another host goes to a
 * recording proxy that refuses it, so a script that tries and swallows the failure is caught too.
 * The control installs onnxruntime-node alone without the `.npmrc`: it must fail through the proxy,
 * which proves the restriction bites. Runs on the npm cache (`--prefer-offline`), ~20 s.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyRecorder, type ProxyRecorder } from "../helpers/proxy-recorder.js";

const ROOT = join(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "ci-npm10-"));
const REGISTRY_HOST = "registry.npmjs.org";
const CUDA_PROVIDER = "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so";
let proxy: ProxyRecorder;

/** A Node install with headers for node-gyp (pkcs11js): without one, node-gyp downloads them from nodejs.org. */
function nodeHeaders(): string {
  const candidates = [process.env["npm_config_nodedir"], dirname(dirname(process.execPath))];
  const found = candidates.find((d) => d !== undefined && existsSync(join(d, "include/node/node_api.h")));
  if (found === undefined)
    throw new Error(
      "no Node headers: set npm_config_nodedir to a Node install with include/node (docs/dependencies.md)",
    );
  return found;
}

function restrictedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(ONNXRUNTIME_NODE_INSTALL|npm_config_onnxruntime)/i.test(k) && !/proxy$/i.test(k)) env[k] = v;
  for (const k of ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "GLOBAL_AGENT_HTTPS_PROXY"])
    env[k] = proxy.url;
  env["GLOBAL_AGENT_HTTP_PROXY"] = proxy.url;
  env["NO_PROXY"] = env["no_proxy"] = REGISTRY_HOST;
  env["npm_config_registry"] = `https://${REGISTRY_HOST}/`;
  env["npm_config_nodedir"] = nodeHeaders();
  return env;
}

function npm10(cwd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["-y", "npm@10", ...args, "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd,
      env: restrictedEnv(),
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

beforeAll(async () => {
  proxy = await startProxyRecorder();
});
afterAll(async () => {
  await proxy.close();
  rmSync(work, { recursive: true, force: true });
});

describe("npm ci with npm 10, network restricted to the registry", () => {
  it("installs every dependency (native pkcs11js built, no CUDA download) and reaches no other host", async () => {
    const dir = join(work, "project");
    mkdirSync(dir);
    copyFileSync(join(ROOT, "package-lock.json"), join(dir, "package-lock.json"));
    copyFileSync(join(ROOT, ".npmrc"), join(dir, ".npmrc"));
    // The project's own "prepare" builds dist/ from the sources, which this copy does not carry.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
    delete pkg["scripts"];
    writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
    const version = await npm10(dir, ["--version"]);
    expect(version.out.trim().split("\n").at(-1)).toMatch(/^10\./);
    const r = await npm10(dir, ["ci"]);
    expect(r.code, r.out).toBe(0);
    expect(proxy.hosts).toEqual([]);
    expect(existsSync(join(dir, "node_modules/pkcs11js/build/Release/pkcs11.node"))).toBe(true);
    expect(existsSync(join(dir, "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"))).toBe(true);
    expect(existsSync(join(dir, CUDA_PROVIDER))).toBe(false);
  }, 300_000);

  it("control: without the .npmrc, npm 10 runs onnxruntime-node's download, which the restriction refuses", async () => {
    const dir = join(work, "control");
    mkdirSync(dir);
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    const ort = lock.packages["node_modules/onnxruntime-node"]?.version;
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "control", version: "1.0.0", private: true, dependencies: { "onnxruntime-node": ort } }),
    );
    proxy.hosts.length = 0;
    const r = await npm10(dir, ["install"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("command sh -c node ./script/install");
    expect(proxy.hosts[0]).toBe("api.nuget.org"); // the CUDA feed (onnxruntime-node script/install-metadata.js)
  }, 120_000);
});
