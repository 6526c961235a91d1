/**
 * The Kata initdata of a confidential runtime pod: Trustee's digest rule computed independently
 * (SHA-384 of the TOML text, first 32 bytes = HOST_DATA), the annotation Kata decodes (base64 of
 * gzip), the document's shape, and what it pins.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { runtimeInitData } from "../../components/inference/initdata.js";
import { RUNTIME_ARGS, RUNTIME_MOUNTS } from "../../components/inference/workloads.js";
import { initDataDigest } from "../../runtime/kbs-protocol/index.js";

const IMAGE = `registry.example/runtime@sha256:${"a".repeat(64)}`;
const BROKER = "https://key-broker.ci-keys.svc.cluster.local:8444";
const spec = { image: IMAGE, brokerUrl: BROKER, args: RUNTIME_ARGS, mounts: RUNTIME_MOUNTS };

describe("runtimeInitData", () => {
  const d = runtimeInitData(spec);

  it("has HOST_DATA = the first 32 bytes of SHA-384 over the TOML text (Trustee's rule), as the broker computes it", () => {
    const sha384 = createHash("sha384").update(Buffer.from(d.toml, "utf8")).digest();
    expect(d.digest).toBe(sha384.toString("hex"));
    expect(d.hostData).toBe(sha384.subarray(0, 32).toString("hex"));
    const broker = initDataDigest({ format: "toml", body: d.toml }, "init-data");
    expect(broker.ok && broker.hostData.toString("hex")).toBe(d.hostData);
  });

  it("is annotated as base64 of gzip, which decodes to the exact TOML bytes", () => {
    expect(gunzipSync(Buffer.from(d.annotation, "base64")).toString("utf8")).toBe(d.toml);
    expect(runtimeInitData(spec).annotation).toBe(d.annotation); // deterministic
  });

  it("is a Kata initdata document: version, sha384, and the agent policy and guest-component settings", () => {
    const doc = parseToml(d.toml) as { version: string; algorithm: string; data: Record<string, string> };
    expect([doc.version, doc.algorithm, Object.keys(doc.data)]).toEqual([
      "0.1.0",
      "sha384",
      ["aa.toml", "cdh.toml", "policy.rego"],
    ]);
    expect(parseToml(doc.data["aa.toml"]!)).toEqual({ token_configs: { kbs: { url: BROKER } } });
    expect(parseToml(doc.data["cdh.toml"]!)).toEqual({ kbc: { name: "cc_kbc", url: BROKER } });
    const rego = doc.data["policy.rego"]!;
    expect(rego).toContain(`runtime_image := ${JSON.stringify(IMAGE)}`);
    expect(rego).toContain(
      'runtime_args := ["/usr/local/bin/node","/app/main.js","--config","/etc/confidential-inference/runtime.json"]',
    );
    for (const denied of ["ExecProcessRequest", "ReadStreamRequest", "SetPolicyRequest", "CopyFileRequest"])
      expect(rego).toContain(`default ${denied} := false`);
  });

  it("gives another HOST_DATA for another image, command or broker", () => {
    const other = [
      runtimeInitData({ ...spec, image: `registry.example/runtime@sha256:${"b".repeat(64)}` }),
      runtimeInitData({ ...spec, args: ["--config", "/tmp/evil.json"] }),
      runtimeInitData({ ...spec, brokerUrl: "https://evil.example:8444" }),
    ].map((x) => x.hostData);
    expect(new Set([d.hostData, ...other]).size).toBe(4);
  });

  it("refuses a value that would end a TOML literal string", () => {
    expect(() => runtimeInitData({ ...spec, image: "x'''y" })).toThrow("policy.rego may not contain '''");
  });
});
