/**
 * The gateway's config file (JSON), parsed strictly; every problem is reported at once by field path.
 * Paths are relative to the config file's folder. API keys appear only as `{ id, client, sha256 }` records.
 */
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues, type Problem } from "../../core/index.js";
import type { ApiKeyRecord } from "./api-keys.js";
import { GatewayError } from "./errors.js";

const hostPort = (port: number) =>
  z.strictObject({
    host: z.string().min(1).default("0.0.0.0"),
    port: z.number().int().min(0).max(65535).default(port),
  });

/** The gateway config schema. */
export const gatewayConfigSchema = z.strictObject({
  listen: hostPort(8080).default({ host: "0.0.0.0", port: 8080 }),
  ops: hostPort(9465).default({ host: "0.0.0.0", port: 9465 }),
  tls: z
    .strictObject({
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
      clientCaFile: z.string().min(1).optional(),
    })
    .optional(),
  upstreamTls: z.strictObject({
    brokerCaFile: z.string().min(1).optional().describe("the only trust anchor for runtime certificates (static)"),
    brokerCaBundle: z
      .strictObject({
        file: z.string().min(1).describe("the bundle the key broker publishes (compact JWS), watched"),
        publisherPublicKeyFile: z.string().min(1).describe("the pinned publication key (PEM, P-384)"),
        refreshSeconds: z.number().int().min(1).max(3600).default(10),
      })
      .optional()
      .describe("or the broker CA bundle the broker publishes, verified and reloaded without a restart"),
    certFile: z.string().min(1).describe("gateway client certificate (from the gateway CA)"),
    keyFile: z.string().min(1),
  }),
  upstreamTimeoutMs: z.number().int().min(1).max(600_000).default(15_000),
  routes: z.record(
    z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
    z.array(z.strictObject({ url: z.url({ protocol: /^https$/ }), servername: z.string().min(1).optional() })).min(1),
  ),
  clients: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        rateLimit: z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1) }),
        models: z.array(z.string().min(1)).optional(),
        certificateSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).optional(),
      }),
    )
    .min(1),
  apiKeys: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[0-9a-f]{12}$/),
        client: z.string().min(1),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .default([]),
  /** JSON file of more `{ id, client, sha256 }` records (a mounted Secret), added to `apiKeys`. */
  apiKeysFile: z.string().min(1).optional(),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug"]).default("info"),
  /** Client listener timeouts in ms (core `listenerTimeouts`; each absent: its default). */
  timeouts: z
    .strictObject({
      headersMs: z.number().int().min(1).optional(),
      requestMs: z.number().int().min(1).optional(),
      handshakeMs: z.number().int().min(1).optional(),
      idleMs: z.number().int().min(1).optional(),
      keepAliveMs: z.number().int().min(1).optional(),
    })
    .default({}),
  plaintextApi: z
    .boolean()
    .default(false)
    .describe(
      "also serve the OIP API in clear (the gateway then sees prompts); dev only. The OHTTP relay is always served",
    ),
});

/** A parsed gateway config. */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/**
 * Parses the text of an `apiKeysFile` (a JSON array of `{ id, client, sha256 }`) -> `CONFIG_INVALID`
 * listing every problem by path (`apiKeysFile[1].sha256`). Whether each client exists is checked when
 * the gateway is built.
 */
export function parseApiKeysFile(text: string): ApiKeyRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError("CONFIG_INVALID", "apiKeysFile: not JSON");
  }
  const r = gatewayConfigSchema.shape.apiKeys.safeParse(doc);
  if (r.success) return r.data;
  const problems = problemsFromIssues(r.error.issues, { prefix: "apiKeysFile" });
  throw new GatewayError(
    "CONFIG_INVALID",
    `invalid API keys file (${problemCount(problems)}):\n${formatProblems(problems, "\n")}`,
    { problems },
  );
}

/** Parses a config document -> `CONFIG_INVALID` listing every problem with its path. */
export function parseGatewayConfig(doc: unknown): GatewayConfig {
  const r = gatewayConfigSchema.safeParse(doc);
  const problems: Problem[] = r.success ? [] : problemsFromIssues(r.error.issues);
  if (r.success) {
    const names = new Set(r.data.clients.map((c) => c.name));
    r.data.apiKeys.forEach(
      (k, i) =>
        names.has(k.client) || problems.push({ path: `apiKeys[${i}].client`, message: `no client named ${k.client}` }),
    );
    const u = r.data.upstreamTls;
    if ((u.brokerCaFile === undefined) === (u.brokerCaBundle === undefined))
      problems.push({
        path: "upstreamTls.brokerCaFile",
        message: "set exactly one of brokerCaFile and brokerCaBundle",
      });
    if (problems.length === 0) return r.data;
  }
  throw new GatewayError(
    "CONFIG_INVALID",
    `invalid gateway config (${problemCount(problems)}):\n${formatProblems(problems, "\n")}`,
    { problems },
  );
}
