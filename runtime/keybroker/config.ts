/**
 * The key broker's configuration (a JSON file, `--config FILE`), parsed strictly: unknown keys are
 * rejected and every problem is reported at once with its path. The HSM PIN is never in the file:
 * it comes from a file (`hsm.pinFile`) or an environment variable (`hsm.pinEnv`), never argv.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { formatProblems, problemsFromIssues, type Problem } from "../../core/index.js";
import { KeyBrokerError } from "./errors.js";
import { DEFAULT_KEY_LABELS, type KeyLabels } from "./keys/keyring-config.js";
import type { ReleaseRule } from "./release/release-rule.js";
import { DEFAULT_HSM_SESSIONS } from "./hsm/pkcs11-session.js";
import { SOFTHSM2_MODULE } from "./hsm/softhsm.js";

const label = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,24}$/, "letters, digits, '.', '_', '-' (at most 24, versions are appended)");
const port = z.number().int().min(0).max(65535);

/** Schema of the broker configuration (see the README "Key broker" section for every key). */
export const keyBrokerConfigSchema = z.strictObject({
  /** Folder for state.json, audit.log and (SoftHSM2) softhsm2.conf. */
  stateDir: z.string().min(1),
  /** `iss` of attestation tokens (the broker's public URL). */
  issuer: z.string().min(1).default("https://keybroker.local"),
  hsm: z.strictObject({
    modulePath: z.string().min(1).default(SOFTHSM2_MODULE),
    tokenLabel: z.string().min(1).max(32),
    /** File holding the user PIN (first line). */
    pinFile: z.string().min(1).optional(),
    /** Environment variable holding the user PIN. */
    pinEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    keyLabels: z
      .strictObject({
        kek: label.optional(),
        signing: label.optional(),
        ca: label.optional(),
        session: label.optional(),
      })
      .default({}),
    /** Pooled sessions for per-request HSM operations, which run concurrently on the libuv thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise). */
    sessions: z.number().int().min(1).max(16).default(DEFAULT_HSM_SESSIONS),
    /** Embedded SoftHSM2: token folder; the broker writes a private softhsm2.conf and initialises the token on first start. */
    softhsm: z.strictObject({ tokenDir: z.string().min(1), initialise: z.boolean().default(true) }).optional(),
  }),
  listen: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: port.default(8444),
      adminHost: z.string().default("127.0.0.1"),
      adminPort: port.default(8445),
    })
    .default({ host: "127.0.0.1", port: 8444, adminHost: "127.0.0.1", adminPort: 8445 }),
  /**
   * Publishes the broker CA bundle (signed) to a ConfigMap the gateway mounts, so the gateway trusts
   * attested runtimes from the first deploy and follows CA rotations (docs/deploy.md); absent: no publication.
   */
  caPublication: z
    .strictObject({
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a namespace name"),
      configMap: z.string().regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, "a ConfigMap name"),
      key: z
        .string()
        .regex(/^[-._a-zA-Z0-9]{1,253}$/, "a ConfigMap key")
        .default("bundle.jws"),
      /** PEM file of the publication private key (EC P-384); the gateway pins its public half. */
      signingKeyFile: z.string().min(1),
      intervalSeconds: z.number().int().min(1).max(3600).default(30),
      /** API server URL; absent: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
      apiServer: z.url({ protocol: /^https$/ }).optional(),
      tokenFile: z.string().min(1).default("/var/run/secrets/kubernetes.io/serviceaccount/token"),
      caFile: z.string().min(1).default("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"),
    })
    .optional(),
  /** The metrics listener (plain HTTP: `/metrics`, `/v2/health/live`, `/v2/health/ready`); absent: no listener. */
  metrics: z.strictObject({ host: z.string().default("127.0.0.1"), port: port.default(9464) }).optional(),
  tls: z
    .strictObject({
      /** Names in the broker's own server certificate (issued by its HSM CA at start). */
      dnsNames: z.array(z.string().min(1)).default(["localhost"]),
      ipAddresses: z.array(z.string().min(1)).default(["127.0.0.1"]),
      /** PEM certificate (chain) and key files for both listeners instead (e.g. from @pulumi/tls); both or neither. */
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .default({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }),
  admin: z.strictObject({
    /** PEM file of the operator CA: only client certificates it issued may use the admin listener. */
    operatorCaFile: z.string().min(1),
  }),
  manifests: z.strictObject({
    /** PEM file of the release signing public key (P-384) that golden manifests must be signed with. */
    signerPublicKeyFile: z.string().min(1),
    /** Signed manifests (compact JWS files) imported at every start, with their signed status (idempotent). */
    files: z.array(z.string().min(1)).default([]),
  }),
  ttl: z
    .strictObject({
      nonceSeconds: z.number().int().min(1).default(60),
      tokenSeconds: z.number().int().min(1).default(300),
      sessionKeySeconds: z.number().int().min(1).default(900),
      graceSeconds: z.number().int().min(0).default(300),
    })
    .default({ nonceSeconds: 60, tokenSeconds: 300, sessionKeySeconds: 900, graceSeconds: 300 }),
  limits: z
    .strictObject({
      bodyBytes: z.number().int().min(1024).default(262_144),
      /** Most KBS sessions held at once (all replicas); a full table evicts unattested sessions of the busiest peer first. */
      maxSessions: z.number().int().min(1).default(10_000),
      /** Most unattested (challenged) sessions of one peer (an IPv4 address or an IPv6 /64); beyond it /auth answers 429. */
      sessionsPerPeer: z.number().int().min(1).default(16),
    })
    .default({ bodyBytes: 262_144, maxSessions: 10_000, sessionsPerPeer: 16 }),
  /** Timeouts of every listener (KBS, admin, metrics) in ms (core `listenerTimeouts`: head, whole request, TLS handshake, idle, keep-alive). */
  timeouts: z
    .strictObject({
      headersMs: z.number().int().min(1).optional(),
      requestMs: z.number().int().min(1).optional(),
      handshakeMs: z.number().int().min(1).optional(),
      idleMs: z.number().int().min(1).optional(),
      keepAliveMs: z.number().int().min(1).optional(),
    })
    .default({}),
  /** Audit log rotation: a new file once the current one reaches `rotateBytes`; `keepFiles` rotated files are kept. */
  audit: z
    .strictObject({
      rotateBytes: z
        .number()
        .int()
        .min(4096)
        .default(64 * 1024 * 1024),
      keepFiles: z.number().int().min(1).default(16),
    })
    .default({ rotateBytes: 64 * 1024 * 1024, keepFiles: 16 }),
  /** Resource rules: who may read what (first matching rule decides; none matching denies). */
  policy: z
    .strictObject({
      resourceRules: z
        .array(
          z.strictObject({
            resource: z.string().min(1),
            launchShapes: z.array(z.string().min(1)).optional(),
            releases: z.array(z.string().min(1)).optional(),
          }),
        )
        .default([{ resource: "runtime/*/*" }]),
    })
    .default({ resourceRules: [{ resource: "runtime/*/*" }] }),
  /** How evidence is appraised (runtime/attestation). Used by main.ts to build the verifier. */
  attestation: z
    .strictObject({
      /** The SNP appraisal policy JSON (runtime/attestation `attestationPolicySchema`: allowedRoots, tcbFloors, chipAllowlist, allowDebug, ...). */
      policy: z.record(z.string(), z.unknown()).default({}),
      /** Or a file holding that JSON (e.g. the GoldenMeasurements `verifierPolicy` output); wins over `policy`. */
      policyFile: z.string().min(1).optional(),
      /** Folder of the simulated SNP signer, required when policy.allowedRoots lists `simulated` (dev only). */
      simulatedSnpDir: z.string().min(1).optional(),
      /** Offline collateral folder (AMD KDS layout); absent: none. */
      collateralDir: z.string().min(1).optional(),
      /** Fetch missing collateral from AMD KDS (cached). */
      kds: z.boolean().default(true),
      /**
       * Device tee names (kbs-types `Tee`, e.g. `nvidia`) whose additional evidence is accepted: bound
       * through REPORT_DATA and recorded, not appraised. Empty: additional evidence must be "".
       */
      additionalDevices: z.array(z.string().regex(/^[a-z0-9-]{1,32}$/)).default([]),
    })
    .default({ policy: {}, kds: true, additionalDevices: [] }),
  /**
   * Where the state lives: `file` (one replica: `<stateDir>/state.json`, sessions in memory) or
   * `postgres` (any number of replicas sharing one PostgreSQL database and one HSM token).
   */
  store: z
    .discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("file") }),
      z.strictObject({
        kind: z.literal("postgres"),
        /** File holding the connection string (first line), e.g. a mounted Kubernetes secret. */
        connectionFile: z.string().min(1).optional(),
        /** Or the environment variable holding it. Never the string itself: it may hold a password. */
        connectionEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .optional(),
        /** This replica's name (rotation leases, audit index); default the host name (the pod name). */
        replica: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,64}$/)
          .optional(),
        /** Rotation lease in seconds: past it, another replica may recover a rotation whose owner died. */
        rotationLeaseSeconds: z.number().int().min(1).max(3600).default(120),
        /** Per-query timeout in ms: a replica that cannot reach the store fails closed after this. */
        queryTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
        /** Connections per replica. */
        poolSize: z.number().int().min(1).max(64).default(8),
      }),
    ])
    .default({ kind: "file" }),
  runtimeCertificate: z
    .strictObject({
      dnsNames: z.array(z.string().min(1)).default(["localhost"]),
      ipAddresses: z.array(z.string().min(1)).default(["127.0.0.1"]),
    })
    .default({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }),
});

/** Parsed configuration (defaults applied). */
export type KeyBrokerConfig = z.output<typeof keyBrokerConfigSchema>;

/**
 * Validates a configuration object; throws CONFIG_INVALID listing every problem with its path.
 *
 * @example parseKeyBrokerConfig(JSON.parse(readFileSync("keybroker.json", "utf8")))
 */
export function parseKeyBrokerConfig(raw: unknown): KeyBrokerConfig {
  const r = keyBrokerConfigSchema.safeParse(raw);
  const problems: Problem[] = r.success ? [] : problemsFromIssues(r.error.issues);
  if (r.success) {
    if (r.data.hsm.pinFile === undefined && r.data.hsm.pinEnv === undefined) {
      problems.push({
        path: "hsm.pinFile",
        message: "set hsm.pinFile or hsm.pinEnv (the PIN is never in the config file or on the command line)",
      });
    }
    if ((r.data.tls.certFile === undefined) !== (r.data.tls.keyFile === undefined))
      problems.push({ path: "tls.keyFile", message: "set tls.certFile and tls.keyFile together" });
    const st = r.data.store;
    if (st.kind === "postgres" && (st.connectionFile === undefined) === (st.connectionEnv === undefined))
      problems.push({
        path: "store.connectionFile",
        message:
          "set exactly one of store.connectionFile or store.connectionEnv (the connection string is never in the config file)",
      });
  }
  if (problems.length > 0 || !r.success) {
    throw new KeyBrokerError("CONFIG_INVALID", `invalid key broker configuration:\n${formatProblems(problems, "\n")}`, {
      problems,
    });
  }
  return r.data;
}

/** Base labels with defaults filled in. */
export function keyLabelsOf(config: KeyBrokerConfig): KeyLabels {
  return {
    ...DEFAULT_KEY_LABELS,
    ...Object.fromEntries(Object.entries(config.hsm.keyLabels).filter(([, v]) => v !== undefined)),
  };
}

/** The release policy part of the configuration. */
export function releaseRuleOf(config: KeyBrokerConfig): ReleaseRule {
  return { resourceRules: config.policy.resourceRules };
}

/**
 * Reads the user PIN from `hsm.pinFile` (first line, trailing newline removed) or the variable
 * `hsm.pinEnv`. Throws PIN_UNAVAILABLE naming the source, never the value.
 */
export function readPin(
  config: KeyBrokerConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (config.hsm.pinFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.hsm.pinFile, "utf8");
    } catch (e) {
      throw new KeyBrokerError(
        "PIN_UNAVAILABLE",
        `reading the HSM PIN from hsm.pinFile ${config.hsm.pinFile}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`,
        { cause: e },
      );
    }
    const pin = text.split(/\r?\n/)[0] ?? "";
    if (pin === "") throw new KeyBrokerError("PIN_UNAVAILABLE", `hsm.pinFile ${config.hsm.pinFile} is empty`);
    return pin;
  }
  const name = config.hsm.pinEnv as string;
  const pin = env[name];
  if (pin === undefined || pin === "")
    throw new KeyBrokerError("PIN_UNAVAILABLE", `environment variable ${name} (hsm.pinEnv) is not set`);
  return pin;
}
