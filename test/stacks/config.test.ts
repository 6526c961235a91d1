import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseStackConfig, PLACEHOLDER_SECRET } from "../../stacks/config-parse.js";
import { edit, load, NS, problems } from "../helpers/stack-config.js";

const STACKS = join(__dirname, "../../stacks");

/** The secret config keys of each stack file. */
const SECRET_KEYS: Record<string, string[]> = {
  dev: ["gatewayApiKeyDev", "hsmPin", "releaseSigningKey"],
  staging: ["gatewayApiKeyEval", "gatewayApiKeyLab", "hsmPin", "releaseSigningKey", "sshPrivateKey"],
  prod: [
    "gatewayApiKeyAnalytics",
    "gatewayApiKeySearch",
    "hsmPin",
    "keyBrokerStoreConnection",
    "releaseSigningKey",
    "sshPrivateKey",
  ],
};

describe("stack files", () => {
  const envs = readdirSync(STACKS)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.split(".")[1] ?? "");

  it("has the dev, staging and prod stacks", () => {
    expect(envs.sort()).toEqual(["dev", "prod", "staging"]);
  });

  it.each(envs)("Pulumi.%s.yaml validates", (env) => {
    const { raw, secretKeys } = load(env);
    const { config, secrets } = parseStackConfig(raw, secretKeys);
    expect(config.environment).toBe(env);
    expect([...secrets.keys()].sort()).toEqual(SECRET_KEYS[env]);
  });

  it("keeps every secret encrypted (no plain-text PIN or key in the files)", () => {
    for (const env of envs) {
      const { raw, secretKeys } = load(env);
      expect([...secretKeys].sort()).toEqual(SECRET_KEYS[env]?.map((k) => `${NS}:${k}`));
      expect(Object.values(raw).join("\n")).not.toMatch(/PRIVATE KEY-----|REPLACE-ME/);
    }
  });

  it("applies defaults", () => {
    const { config } = parseStackConfig(load("dev").raw, load("dev").secretKeys);
    expect(config.launchShapes[0]?.guestFeatures).toBe(1n);
    expect(config.launchShapes[0]?.vmmType).toBe("QEMU");
    expect(config.launchShapes[0]?.policy).toEqual({
      debug: false,
      migrateMa: false,
      smt: true,
      singleSocket: false,
      abiMajor: 0,
      abiMinor: 0,
    });
    expect(config.network.ports).toEqual({
      inference: 8443,
      broker: 8444,
      brokerAdmin: 8445,
      gateway: 8080,
      metrics: 9464,
    });
    expect(config.keyBroker.tokenTtlSeconds).toBe(300);
    expect(config.hsm.keyLabels).toEqual({ kek: "ci-kek", signing: "ci-token-signing", ca: "ci-broker-ca" });
  });

  it("parses guest features written as hex", () => {
    const { raw, secretKeys } = edit("dev", "launchShapes", (v) => [{ ...v[0], guestFeatures: "0x21" }]);
    expect(parseStackConfig(raw, secretKeys).config.launchShapes[0]?.guestFeatures).toBe(0x21n);
  });
});

const invalid: Array<[string, ReturnType<typeof edit>, string[]]> = [
  [
    "host address",
    edit("staging", "hosts", (v) => [v[0], { ...v[1], address: "10.0.0.256" }]),
    [`${NS}:hosts[1].address: not an IP address or hostname`],
  ],
  [
    "host name",
    edit("staging", "hosts", (v) => [{ ...v[0], name: "Lab_Milan" }, v[1]]),
    [`${NS}:hosts[0].name: must be a lower-case DNS label (a-z, 0-9, '-', at most 63 characters)`],
  ],
  [
    "duplicate host",
    edit("staging", "hosts", (v) => [v[0], { ...v[1], name: v[0].name }]),
    [`${NS}:hosts[1].name: duplicate host name "lab-milan-01"`],
  ],
  [
    "unknown product",
    edit("staging", "hosts", (v) => [{ ...v[0], product: "Naples" }, v[1]]),
    [`${NS}:hosts[0].product: must be one of: Milan, Genoa, Turin`],
  ],
  [
    "ssh port",
    edit("staging", "hosts", (v) => [{ ...v[0], ssh: { ...v[0].ssh, port: 70000 } }, v[1]]),
    [`${NS}:hosts[0].ssh.port: must be a port number (1-65535)`],
  ],
  [
    "typo in a key",
    edit("staging", "hosts", (v) => [{ ...v[0], adress: "10.0.0.1" }, v[1]]),
    [`${NS}:hosts[0].adress: unknown key`],
  ],
  [
    "unknown top-level key",
    (() => {
      const e = edit("dev", "release", (v) => v);
      e.raw[`${NS}:replicas`] = "3";
      return e;
    })(),
    [`${NS}:replicas: unknown key`],
  ],
  ["missing environment", edit("dev", "environment", () => undefined), [`${NS}:environment: required`]],
  [
    "bad environment",
    edit("dev", "environment", () => "qa"),
    [`${NS}:environment: must be one of: dev, staging, prod`],
  ],
  [
    "artifact digest",
    edit("dev", "artifacts", (v) => ({ ...v, "kernel-dev": { ...v["kernel-dev"], sha256: "ABC" } })),
    [`${NS}:artifacts.kernel-dev.sha256: must be a lower-case hex SHA-256 digest (64 characters)`],
  ],
  [
    "unknown artifact reference",
    edit("dev", "launchShapes", (v) => [{ ...v[0], kernel: "kernel-7" }]),
    [`${NS}:launchShapes[0].kernel: unknown artifact "kernel-7"`],
  ],
  [
    "artifact of the wrong kind",
    edit("dev", "launchShapes", (v) => [{ ...v[0], initrd: "kernel-dev" }]),
    [`${NS}:launchShapes[0].initrd: artifact "kernel-dev" is a kernel, expected a initrd`],
  ],
  [
    "zero vCPUs",
    edit("dev", "launchShapes", (v) => [{ ...v[0], vcpus: 0 }]),
    [`${NS}:launchShapes[0].vcpus: must be between 1 and 512 vCPUs`],
  ],
  [
    "unknown vCPU type",
    edit("dev", "launchShapes", (v) => [{ ...v[0], vcpuType: "EPYC-Zen9" }]),
    [
      `${NS}:launchShapes[0].vcpuType: must be one of: EPYC, EPYC-v1, EPYC-v2, EPYC-v3, EPYC-v4, EPYC-IBPB, EPYC-Rome, EPYC-Rome-v1, EPYC-Rome-v2, EPYC-Rome-v3, EPYC-Rome-v4, EPYC-Milan, EPYC-Milan-v1, EPYC-Milan-v2, EPYC-Genoa, EPYC-Genoa-v1, EPYC-Turin`,
    ],
  ],
  [
    "guest features too wide",
    edit("dev", "launchShapes", (v) => [{ ...v[0], guestFeatures: "0x1ffffffffffffffff" }]),
    [`${NS}:launchShapes[0].guestFeatures: must be an unsigned integer up to 64 bits (e.g. "0x1")`],
  ],
  [
    "cmdline without kernel",
    edit("dev", "launchShapes", () => [
      { name: "fw", firmware: "ovmf-amdsev", cmdline: "quiet", vcpus: 1, vcpuType: "EPYC", memoryMiB: 1024 },
    ]),
    [`${NS}:launchShapes[0].cmdline: a cmdline needs a kernel (direct boot)`],
  ],
  [
    "debug guest without debug policy",
    edit("dev", "launchShapes", (v) => [{ ...v[0], policy: { debug: true } }]),
    [`${NS}:launchShapes[0].policy.debug: debug guests would be refused: attestation.allowDebug is false`],
  ],
  [
    "image not pinned",
    edit("prod", "inference", (v) => ({ ...v, runtimeImage: "registry.example.internal/runtime:latest" })),
    [`${NS}:inference.runtimeImage: image must be pinned by digest (name@sha256:<64 hex>)`],
  ],
  [
    "simulated root in prod",
    edit("prod", "attestation", (v) => ({ ...v, allowedRoots: ["simulated", ...v.allowedRoots] })),
    [`${NS}:attestation.allowedRoots: the simulated root is only allowed in dev, not in prod`],
  ],
  [
    "plaintext API in staging",
    edit("staging", "inference", (v) => ({ ...v, plaintextApi: true })),
    [
      `${NS}:inference.plaintextApi: the plaintext API lets the gateway (outside the boundary) read prompts and answers: dev only, not staging`,
    ],
  ],
  [
    "debug allowed in prod",
    edit("prod", "attestation", (v) => ({ ...v, allowDebug: true })),
    [`${NS}:attestation.allowDebug: debug guests are never accepted in prod`],
  ],
  [
    "missing TCB floor in prod",
    edit("prod", "attestation", (v) => ({ ...v, tcbFloors: { Genoa: v.tcbFloors.Genoa } })),
    [`${NS}:attestation.tcbFloors.Turin: prod hosts include Turin: a TCB floor is required`],
  ],
  [
    "SoftHSM in prod (with three broker replicas sharing its token)",
    edit("prod", "hsm", (v) => ({ ...v, kind: "softhsm" })),
    [
      `${NS}:hsm.kind: SoftHSM is for dev and staging; prod needs an enterprise PKCS#11 module`,
      `${NS}:keyBroker.replicas: replicas share one HSM token: SoftHSM's token is one pod's files, use a network HSM (hsm.kind pkcs11)`,
    ],
  ],
  [
    "token label too long",
    edit("dev", "hsm", (v) => ({ ...v, tokenLabel: "x".repeat(33) })),
    [`${NS}:hsm.tokenLabel: token labels are at most 32 bytes`],
  ],
  [
    "module path relative",
    edit("dev", "hsm", (v) => ({ ...v, module: "libsofthsm2.so" })),
    [`${NS}:hsm.module: must be an absolute path`],
  ],
  [
    "shared namespace",
    edit("dev", "network", (v) => ({ ...v, zones: { ...v.zones, keys: { namespace: "ci-gateway" } } })),
    [`${NS}:network.zones.keys.namespace: namespace "ci-gateway" is already used by the gateway zone`],
  ],
  [
    "wrong type",
    edit("dev", "keyBroker", (v) => ({ ...v, replicas: "two" })),
    [`${NS}:keyBroker.replicas: expected a number, got a string`],
  ],
  [
    "several broker replicas without a store (SoftHSM)",
    edit("staging", "keyBroker", (v) => ({ ...v, replicas: 2 })),
    [
      `${NS}:keyBroker.replicas: more than 1 replica needs keyBroker.store: without it the key registry, wrapped data keys, manifest states, epochs and KBS sessions live in one pod's state, so replicas would diverge`,
      `${NS}:keyBroker.replicas: replicas share one HSM token: SoftHSM's token is one pod's files, use a network HSM (hsm.kind pkcs11)`,
    ],
  ],
  [
    "several broker replicas without a store (enterprise HSM)",
    edit("prod", "keyBroker", (v) => {
      const { store: _store, ...rest } = v as Record<string, unknown>;
      return { ...rest, replicas: 3 };
    }),
    [
      `${NS}:keyBroker.replicas: more than 1 replica needs keyBroker.store: without it the key registry, wrapped data keys, manifest states, epochs and KBS sessions live in one pod's state, so replicas would diverge`,
      `${NS}:keyBrokerStoreConnection: unknown key`,
    ],
  ],
  [
    "17 broker replicas",
    edit("prod", "keyBroker", (v) => ({ ...v, replicas: 17 })),
    [`${NS}:keyBroker.replicas: must be <= 16`],
  ],
  [
    "a store with an unknown kind",
    edit("prod", "keyBroker", (v) => ({ ...v, store: { kind: "etcd", egress: [{ cidr: "10.0.0.0/0" }] } })),
    [
      `${NS}:keyBroker.store.egress[0].cidr: must be an IPv4 CIDR narrower than /0`,
      `${NS}:keyBroker.store.kind: must be one of: postgres`,
    ],
  ],
  [
    "release time not UTC",
    edit("dev", "golden", (v) => ({ ...v, releasedAt: "2026-11-02 10:00" })),
    [`${NS}:golden.releasedAt: must be a UTC timestamp (2026-11-02T00:00:00Z)`],
  ],
  [
    "KDS mirror over http",
    edit("prod", "hostSetup", (v) => ({ ...v, kdsBaseUrl: "http://kds-cache.example.internal" })),
    [`${NS}:hostSetup.kdsBaseUrl: must be an https URL without a trailing slash`],
  ],
  [
    "token TTL out of range",
    edit("dev", "keyBroker", (v) => ({ ...v, tokenTtlSeconds: 5 })),
    [`${NS}:keyBroker.tokenTtlSeconds: must be between 30 and 3600 seconds`],
  ],
  [
    "guest on unknown shape",
    edit("staging", "hosts", (v) => [{ ...v[0], guests: [{ name: "g", launchShape: "huge" }] }, v[1]]),
    [`${NS}:hosts[0].guests[0].launchShape: unknown launch shape "huge"`],
  ],
  [
    "host product without its root",
    edit("staging", "attestation", (v) => ({ ...v, allowedRoots: ["amd-milan"] })),
    [`${NS}:hosts[1].product: Genoa hosts need "amd-genoa" in attestation.allowedRoots`],
  ],
  [
    "unpinned host key in prod",
    edit("prod", "hosts", (v) => [{ ...v[0], ssh: { user: "ci-deploy" } }, ...v.slice(1)]),
    [`${NS}:hosts[0].ssh.hostKey: prod hosts need a pinned SSH host key`],
  ],
  [
    "no hosts in staging",
    edit("staging", "hosts", () => []),
    [`${NS}:hosts: at least one SEV-SNP host is required in staging`, `${NS}:sshPrivateKey: unknown key`],
  ],
  [
    "several problems at once",
    edit("staging", "hosts", (v) => [
      { ...v[0], address: "not_a_host!" },
      { ...v[1], ssh: { ...v[1].ssh, port: 0 } },
    ]),
    [
      `${NS}:hosts[0].address: not an IP address or hostname`,
      `${NS}:hosts[1].ssh.port: must be a port number (1-65535)`,
    ],
  ],
];

describe("invalid configs", () => {
  it.each(invalid)("%s", (_name, { raw, secretKeys }, expected) => {
    expect(problems(raw, secretKeys)).toEqual(expected);
  });

  it("requires the HSM PIN secret", () => {
    const { raw, secretKeys } = load("dev");
    delete raw[`${NS}:hsmPin`];
    expect(problems(raw, secretKeys)).toEqual([
      `${NS}:hsmPin: required secret is not set (pulumi config set --secret hsmPin <value>)`,
    ]);
  });

  it("refuses a PIN and a signing key stored in plain text", () => {
    const { raw } = load("dev");
    expect(problems(raw, new Set())).toEqual([
      `${NS}:gatewayApiKeyDev: must be stored as a secret (pulumi config set --secret gatewayApiKeyDev <value>)`,
      `${NS}:hsmPin: must be stored as a secret (pulumi config set --secret hsmPin <value>)`,
      `${NS}:releaseSigningKey: must be stored as a secret (pulumi config set --secret releaseSigningKey <value>)`,
    ]);
  });

  it("refuses the committed placeholder secrets", () => {
    const { raw, secretKeys } = load("prod");
    raw[`${NS}:sshPrivateKey`] = PLACEHOLDER_SECRET;
    expect(problems(raw, secretKeys)).toEqual([
      `${NS}:sshPrivateKey: placeholder secret: set the real value (pulumi config set --secret sshPrivateKey <value>)`,
    ]);
  });

  it("rejects a structured key that is not JSON", () => {
    const { raw, secretKeys } = load("dev");
    raw[`${NS}:hosts`] = "snp-01";
    expect(problems(raw, secretKeys)).toEqual([`${NS}:hosts: not a structured value (expected a YAML object or list)`]);
  });

  it("names every problem in the error message", () => {
    const { raw, secretKeys } = invalid.at(-1)![1];
    expect(() => parseStackConfig(raw, secretKeys)).toThrow(
      `invalid stack configuration (2 problems):\n${NS}:hosts[0].address: not an IP address or hostname\n${NS}:hosts[1].ssh.port: must be a port number (1-65535)`,
    );
  });
});
