/** The sandbox's pure parts: guest artifacts, SoftHSM2 plan, configs (parsed by each service's own parser), messages. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { keyReleaseOptionsSchema } from "../../runtime/inference/key-release.js";
import { parseGatewayConfig } from "../../runtime/gateway/config.js";
import { parseRuntimeConfig } from "../../runtime/inference/config.js";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import {
  DEFAULT_PORTS,
  gatewayConfig,
  keyBrokerConfig,
  runtimeConfig,
  runtimeEvidence,
  tcbBelow,
  type Provisioned,
} from "../../runtime/sandbox/configs.js";
import { DEV_GUEST_ARTIFACTS, dummyArtifact } from "../../runtime/sandbox/guest.js";
import { sandboxLayout } from "../../runtime/sandbox/layout.js";
import { sseValues } from "../../runtime/sandbox/chat.js";
import { curlCommand, inferBody, shellQuote } from "../../runtime/sandbox/messages.js";
import { SOFTHSM2_INSTALL_HINT, SOFTHSM2_MODULE_CANDIDATES, softHsmPlan } from "../../runtime/sandbox/softhsm.js";

const L = sandboxLayout("/srv/demo/.sandbox");
const P: Provisioned = {
  version: 1,
  createdAt: "2026-11-26T10:00:00.000Z",
  release: "2026.11.0-dev-sandbox",
  launchShape: "runtime-small",
  measurement: "39765afea1c9ad1005dab3f0967dd75d3f3371c725ede3b451d41536cdbae3959894d4da0e9c781814389a23e42158c0",
  tamperedMeasurement: "ab".repeat(48),
  tamperedCmdline: "console=ttyS0 loglevel=7 init=/bin/sh",
  product: "Genoa",
  tcb: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
  model: {
    name: "sentiment",
    keyId: "default/model/sentiment",
    containerSha256: "c".repeat(64),
    modelSha256: "d".repeat(64),
  },
  clientCertSha256: "e".repeat(64),
};

describe("guest artifacts", () => {
  it.each(Object.entries(DEV_GUEST_ARTIFACTS))(
    "%s rebuilds byte for byte (sha256 pinned in stacks/Pulumi.dev.yaml and test/vectors/snp-measure)",
    (name, a) => {
      const expected = {
        "kernel-dev": "125872c30caee2b396e6094cd09154c1d65d5ca85a0a9449267b189498f943d7",
        "initrd-dev": "298531d07803651e7d0e21b7291827fd1e7f7ec8f6f41331e0dfbd935ff2d06e",
      }[name];
      const bytes = dummyArtifact(a.label, a.size);
      expect([bytes.length, createHash("sha256").update(bytes).digest("hex")]).toEqual([a.size, expected]);
    },
  );

  it("truncates the last digest and refuses a negative size", () => {
    expect(dummyArtifact("x", 33).subarray(0, 32)).toEqual(createHash("sha256").update("x:0").digest());
    expect(dummyArtifact("x", 33)[32]).toBe(createHash("sha256").update("x:1").digest()[0]);
    expect(() => dummyArtifact("x", -1)).toThrow(TypeError);
  });
});

describe("softHsmPlan", () => {
  const debian = SOFTHSM2_MODULE_CANDIDATES[0]!;
  it.each([
    [
      "found at the Debian path",
      { exists: (p: string) => p === debian, isRoot: false, hasApt: true },
      { kind: "found", modulePath: debian },
    ],
    [
      "found at the Fedora path",
      { exists: (p: string) => p === "/usr/lib64/pkcs11/libsofthsm2.so", isRoot: false, hasApt: false },
      { kind: "found", modulePath: "/usr/lib64/pkcs11/libsofthsm2.so" },
    ],
    ["missing, root with apt-get: install", { exists: () => false, isRoot: true, hasApt: true }, { kind: "install" }],
    [
      "missing, not root: the hint",
      { exists: () => false, isRoot: false, hasApt: true },
      { kind: "missing", hint: SOFTHSM2_INSTALL_HINT },
    ],
    [
      "missing, root without apt-get: the hint",
      { exists: () => false, isRoot: true, hasApt: false },
      { kind: "missing", hint: SOFTHSM2_INSTALL_HINT },
    ],
    [
      "SOFTHSM2_MODULE wins",
      { envModule: "/opt/hsm/lib.so", exists: () => true, isRoot: false, hasApt: false },
      { kind: "found", modulePath: "/opt/hsm/lib.so" },
    ],
    [
      "SOFTHSM2_MODULE missing",
      { envModule: "/opt/hsm/lib.so", exists: (p: string) => p === debian, isRoot: true, hasApt: true },
      { kind: "missing", hint: `SOFTHSM2_MODULE=/opt/hsm/lib.so does not exist.\n${SOFTHSM2_INSTALL_HINT}` },
    ],
  ])("%s", (_name, input, plan) => {
    expect(softHsmPlan(input)).toEqual(plan);
  });
});

describe("service configurations", () => {
  it("each service's own parser accepts what the sandbox writes", () => {
    const kb = parseKeyBrokerConfig(keyBrokerConfig(L, DEFAULT_PORTS, P, "/usr/lib/softhsm/libsofthsm2.so"));
    expect([
      kb.stateDir,
      kb.hsm.softhsm?.tokenDir,
      kb.hsm.pinFile,
      kb.listen,
      kb.attestation.policy,
      kb.policy.resourceRules,
    ]).toEqual([
      "/srv/demo/.sandbox/keybroker/state",
      "/srv/demo/.sandbox/keybroker/tokens",
      "/srv/demo/.sandbox/keybroker/pin",
      { host: "127.0.0.1", port: 8444, adminHost: "127.0.0.1", adminPort: 8445 },
      { allowedRoots: ["simulated"], tcbFloors: { Genoa: P.tcb } },
      [{ resource: "runtime/*/*" }, { resource: "default/model/*", launchShapes: ["runtime-small"] }],
    ]);
    const rt = parseRuntimeConfig(runtimeConfig(L, DEFAULT_PORTS, P));
    expect([rt.listen, rt.ops, rt.models[0]?.containerSha256, rt.gatewayCaFile]).toEqual([
      { host: "127.0.0.1", port: 8443 },
      { host: "127.0.0.1", port: 9464 },
      P.model.containerSha256,
      "/srv/demo/.sandbox/pki/gateway-ca.pem",
    ]);
    expect(keyReleaseOptionsSchema.parse(rt.keyBroker)).toEqual({
      url: "https://127.0.0.1:8444",
      caFile: "/srv/demo/.sandbox/keybroker/state/ca.pem",
      sessionKey: false,
      evidence: {
        kind: "simulated-snp",
        dir: "/srv/demo/.sandbox/snp",
        measurement: P.measurement,
        reportedTcb: P.tcb,
      },
    });
    const openai = [
      {
        name: "chat",
        kind: "decoder",
        keyId: "default/model/chat",
        containerSha256: "a".repeat(64),
        modelSha256: "b".repeat(64),
      },
      {
        name: "encoder",
        kind: "tensor",
        keyId: "default/model/encoder",
        containerSha256: "c".repeat(64),
        modelSha256: "d".repeat(64),
      },
    ] as const;
    const withChat = parseRuntimeConfig(runtimeConfig(L, DEFAULT_PORTS, { ...P, openai }));
    expect(withChat.models.slice(1).map((m) => [m.name, m.kind, m.container, m.containerSha256, m.embeddings])).toEqual(
      [
        ["chat", "decoder", "/srv/demo/.sandbox/models/chat.enc", "a".repeat(64), undefined],
        ["encoder", "tensor", "/srv/demo/.sandbox/models/encoder.enc", "c".repeat(64), { output: "embedding" }],
      ],
    );
    expect(Object.keys(parseGatewayConfig(gatewayConfig(L, DEFAULT_PORTS, { ...P, openai })).routes)).toEqual([
      "sentiment",
      "chat",
      "encoder",
    ]);
    const gw = parseGatewayConfig(gatewayConfig(L, DEFAULT_PORTS, P));
    expect([
      gw.listen,
      gw.routes,
      gw.clients[0]?.certificateSha256,
      gw.tls?.clientCaFile,
      gw.upstreamTls.brokerCaFile,
    ]).toEqual([
      { host: "127.0.0.1", port: 8080 },
      { sentiment: [{ url: "https://127.0.0.1:8443" }] },
      [P.clientCertSha256],
      "/srv/demo/.sandbox/pki/sandbox-ca.pem",
      "/srv/demo/.sandbox/keybroker/state/ca.pem",
    ]);
  });

  it.each([
    [undefined, { measurement: P.measurement, reportedTcb: P.tcb }],
    ["measurement", { measurement: P.tamperedMeasurement, reportedTcb: P.tcb }],
    ["debug", { measurement: P.measurement, reportedTcb: P.tcb, debug: true }],
    ["tcb", { measurement: P.measurement, reportedTcb: { bootloader: 10, tee: 0, snp: 24, microcode: 84 } }],
  ] as const)("runtime evidence, tamper %s", (mode, expected) => {
    expect(runtimeEvidence(P, L, mode)).toEqual({ kind: "simulated-snp", dir: "/srv/demo/.sandbox/snp", ...expected });
  });

  it.each([
    [
      { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
      { bootloader: 10, tee: 0, snp: 24, microcode: 84 },
    ],
    [
      { bootloader: 3, tee: 0, snp: 0, microcode: 84 },
      { bootloader: 3, tee: 0, snp: 0, microcode: 83 },
    ],
    [
      { bootloader: 3, tee: 0, snp: 0, microcode: 0 },
      { bootloader: 2, tee: 0, snp: 0, microcode: 0 },
    ],
  ])("tcbBelow(%j)", (tcb, below) => {
    expect(tcbBelow(tcb)).toEqual(below);
  });
});

describe("messages", () => {
  it.each([
    ["/srv/demo/.sandbox/pki/client.pem", "/srv/demo/.sandbox/pki/client.pem"],
    ["/home/a b/x.pem", "'/home/a b/x.pem'"],
    ["it's", "'it'\\''s'"],
  ])("shellQuote(%s)", (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it("the curl command is exactly what a user pastes", () => {
    expect(inferBody(["a", "b"])).toBe('{"inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["a","b"]}]}');
    expect(curlCommand(L, "https://127.0.0.1:8080", "sentiment", "a great, wonderful product")).toBe(
      [
        "curl -sS -w '\\n' --cacert /srv/demo/.sandbox/pki/sandbox-ca.pem \\",
        "    --cert /srv/demo/.sandbox/pki/client.pem --key /srv/demo/.sandbox/pki/client.key \\",
        "    -H 'content-type: application/json' \\",
        `    -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a great, wonderful product"]}]}' \\`,
        "    https://127.0.0.1:8080/v2/models/sentiment/infer",
      ].join("\n"),
    );
  });
});

describe("sandbox chat: the event stream parser", () => {
  it("splits events across pieces, keeps the rest, stops at [DONE]", () => {
    const a = sseValues('data: {"a":1}\n\ndata: {"b"', "");
    expect(a).toEqual({ values: [{ a: 1 }], rest: 'data: {"b"', done: false });
    const b = sseValues(':2}\n\ndata: [DONE]\n\ndata: {"late":true}\n\n', a.rest);
    expect(b).toEqual({ values: [{ b: 2 }], rest: "", done: true });
  });
});
