/**
 * Stack config schemas of the key broker (`confidential-inference:keyBroker`, with its replicated
 * store) and of its HSM (`confidential-inference:hsm`). The HSM PIN and the store's connection string
 * are secret config keys named here, never values in these sections.
 */
import { z } from "zod";
import { PEM_CERTIFICATE, absolutePath, imageByDigest, seconds } from "./config-primitives.js";

/** `confidential-inference:hsm`: the HSM the key broker uses through PKCS#11. */
export const hsmSchema = z.strictObject({
  kind: z.enum(["softhsm", "pkcs11"]).describe("SoftHSM2 (embedded default) or an enterprise PKCS#11 module"),
  module: absolutePath.describe("path of the PKCS#11 library inside the key-broker image"),
  tokenLabel: z.string().min(1).max(32, { message: "token labels are at most 32 bytes" }).describe("token label"),
  pinSecret: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]*$/)
    .default("hsmPin")
    .describe("name of the secret config key holding the user PIN"),
  keyLabels: z
    .strictObject({
      kek: z.string().min(1).default("ci-kek").describe("AES-256 key-encryption key"),
      signing: z.string().min(1).default("ci-token-signing").describe("EC P-384 attestation-token signing key"),
      ca: z.string().min(1).default("ci-broker-ca").describe("EC P-384 broker CA key"),
    })
    .prefault({})
    .describe("labels of the HSM objects (versions are appended)"),
});

const brokerStore = z.strictObject({
  kind: z.literal("postgres").describe("the replicated store: postgres (PostgreSQL 13 or later)"),
  connectionSecret: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]*$/)
    .default("keyBrokerStoreConnection")
    .describe(
      "name of the secret config key holding the PostgreSQL connection string (postgresql://user:password@host:port/db)",
    ),
  rotationLeaseSeconds: seconds(10, 3600)
    .default(120)
    .describe("rotation lease: past it, another replica may recover a rotation whose replica died"),
  queryTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(2000)
    .describe("per-query timeout in ms: a replica that cannot reach the store refuses to release after it"),
  poolSize: z.number().int().min(1).max(64).default(8).describe("database connections per replica"),
  egress: z
    .array(
      z.strictObject({
        cidr: z
          .string()
          .regex(/^(\d{1,3}\.){3}\d{1,3}\/([1-9]|[12]\d|3[0-2])$/, { message: "must be an IPv4 CIDR narrower than /0" })
          .describe("the database's address range"),
        port: z.number().int().min(1).max(65535).default(5432).describe("the database's TCP port"),
      }),
    )
    .min(1)
    .describe("where the broker reaches the database: the keys zone's default-deny egress is opened for exactly these"),
});

/** `confidential-inference:keyBroker`: the key broker service (one replica, or a fleet on `store`). */
export const keyBrokerSchema = z.strictObject({
  image: imageByDigest.describe("key broker image, pinned by digest"),
  replicas: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(1)
    .describe(
      "broker replicas: 1 without `keyBroker.store` (state on one pod's volume); up to 16 with it (shared PostgreSQL and one network HSM token)",
    ),
  store: brokerStore
    .optional()
    .describe("the replicated state store every replica shares; absent: one replica with its state on a volume"),
  tokenTtlSeconds: seconds(30, 3600).default(300).describe("attestation token lifetime"),
  sessionKeyTtlSeconds: seconds(60, 86400).default(900).describe("session key and runtime certificate lifetime"),
  nonceTtlSeconds: seconds(5, 600).default(60).describe("challenge nonce lifetime"),
  rotationGraceSeconds: seconds(0, 86400).default(300).describe("how long superseded session material stays valid"),
  operatorCaCertificate: z
    .string()
    .regex(PEM_CERTIFICATE, { message: "must be PEM certificate(s)" })
    .describe("CA certificate(s) whose client certificates may use the broker's admin listener (operators)"),
  caCertificate: z
    .string()
    .regex(PEM_CERTIFICATE, { message: "must be PEM certificate(s)" })
    .optional()
    .describe(
      "the broker CA certificate (public; `<stateDir>/ca.pem` after its first start), for clusters where the broker may not use the Kubernetes API: the gateway trusts it as given and the broker publishes nothing (a second `pulumi up` after the broker's first start; CA rotations need another); absent: the broker publishes its CA bundle to the gateway, one `pulumi up` is enough",
    ),
});
