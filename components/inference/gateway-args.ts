/**
 * What `InferenceService` needs to know about the gateway's clients and how clients reach it, and
 * the pure builders of the gateway's config file (`gateway.json`, runtime/gateway/config.ts) and its
 * API key records. API keys arrive as secrets and leave only as `{ id, client, sha256 }` records.
 */
import * as pulumi from "@pulumi/pulumi";
import { apiKeyRecord, isApiKey, type ApiKeyRecord } from "../../runtime/api-keys/index.js";
import { known, type ArgProblem } from "../args.js";

/** One client of the gateway. */
export interface GatewayClientArgs {
  /** Client name (logs, metrics, rate limits). */
  readonly name: string;
  /** Sustained requests per second and burst. */
  readonly perSecond: number;
  readonly burst: number;
  /** Models this client may use; absent means all. */
  readonly models?: readonly string[];
  /** API keys (`cik_<id>_<secret>`, Pulumi secrets): only their SHA-256 records reach the cluster. */
  readonly apiKeys?: readonly pulumi.Input<string>[];
  /** SHA-256 fingerprints (hex) of client certificates that authenticate as this client (needs `clientCaCertificate`). */
  readonly certificateSha256?: readonly string[];
}

/** The gateway's client-facing TLS. */
export type GatewayTlsArgs =
  | {
      /** A self-signed leaf from `@pulumi/tls` (clients pin it: output `gatewayCertificate`). */
      readonly kind: "self-signed";
      /** Names clients use, besides the Service names. */
      readonly dnsNames?: readonly pulumi.Input<string>[];
      readonly ipAddresses?: readonly pulumi.Input<string>[];
    }
  | {
      /** A certificate from the team's PKI. */
      readonly kind: "provided";
      readonly certificate: pulumi.Input<string>;
      /** Its private key (a Pulumi secret). */
      readonly privateKey: pulumi.Input<string>;
    };

/** How clients outside the cluster reach the gateway. */
export type GatewayExposureArgs =
  | {
      readonly kind: "load-balancer";
      /** Client CIDRs allowed by the load balancer; absent means any. */
      readonly sourceRanges?: readonly string[];
      readonly annotations?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "ingress";
      readonly host: string;
      readonly className?: string;
      readonly annotations?: Readonly<Record<string, string>>;
    };

/** Where the gateway finds the broker CA bundle the key broker publishes (from `KeyService.caPublication`). */
export interface BrokerCaSourceArgs {
  /** ConfigMap in the gateway's namespace the broker writes. */
  readonly configMapName: pulumi.Input<string>;
  /** Its key holding the bundle. */
  readonly key: string;
  /** The publication public key (PEM) the bundle must verify with. */
  readonly publisherPublicKey: pulumi.Input<string>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const CLIENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Argument problems of the gateway's clients, TLS and exposure. */
export function gatewayProblems(
  clients: readonly GatewayClientArgs[],
  clientCa: pulumi.Input<string> | undefined,
  exposure: GatewayExposureArgs | undefined,
): ArgProblem[] {
  const problems: ArgProblem[] = [];
  const seen = new Set<string>();
  clients.forEach((c, i) => {
    if (!CLIENT_NAME.test(c.name))
      problems.push({ propertyPath: `clients[${i}].name`, reason: "must be 1-64 letters, digits, '.', '_', '-'" });
    if (seen.has(c.name)) problems.push({ propertyPath: `clients[${i}].name`, reason: `duplicate client ${c.name}` });
    seen.add(c.name);
    if (!(c.perSecond > 0) || !(Number.isInteger(c.burst) && c.burst >= 1))
      problems.push({
        propertyPath: `clients[${i}].perSecond`,
        reason: "needs perSecond > 0 and an integer burst >= 1",
      });
    (c.certificateSha256 ?? []).forEach((f, j) => {
      if (!HEX64.test(f))
        problems.push({ propertyPath: `clients[${i}].certificateSha256[${j}]`, reason: "must be 64 lower-case hex" });
    });
    if ((c.certificateSha256 ?? []).length > 0 && clientCa === undefined)
      problems.push({
        propertyPath: `clients[${i}].certificateSha256`,
        reason: "client certificates need clientCaCertificate (the gateway requests them only then)",
      });
    (c.apiKeys ?? []).forEach((k, j) => {
      const v = known(k);
      if (typeof v === "string" && !isApiKey(v))
        problems.push({ propertyPath: `clients[${i}].apiKeys[${j}]`, reason: "not an API key (cik_<id>_<secret>)" });
    });
  });
  if (exposure?.kind === "ingress" && !/^[a-z0-9.-]+$/.test(exposure.host))
    problems.push({ propertyPath: "exposure.host", reason: "must be a DNS name" });
  return problems;
}

/**
 * The API key records of every client, as JSON (the gateway's `apiKeysFile`). A secret output; in a
 * preview it is unknown (the keys are hashed at `pulumi up`, like the manifest is signed).
 */
export function apiKeyRecordsJson(clients: readonly GatewayClientArgs[]): pulumi.Output<string> {
  const keys = clients.flatMap((c) => (c.apiKeys ?? []).map((k) => ({ client: c.name, key: k })));
  if (pulumi.runtime.isDryRun() && keys.length > 0)
    return pulumi.secret(pulumi.output(pulumi.unknown as unknown as string));
  return pulumi.secret(
    pulumi.all(keys.map((k) => k.key)).apply((values) =>
      JSON.stringify(
        values.map((v, i): ApiKeyRecord => apiKeyRecord(v, keys[i]!.client)),
        undefined,
        2,
      ),
    ),
  );
}

/** The `clients` section of gateway.json (no credentials: those are in the API keys file). */
export function gatewayClientsConfig(clients: readonly GatewayClientArgs[]): unknown[] {
  return clients.map((c) => ({
    name: c.name,
    rateLimit: { perSecond: c.perSecond, burst: c.burst },
    ...(c.models === undefined ? {} : { models: [...c.models] }),
    ...(c.certificateSha256 === undefined || c.certificateSha256.length === 0
      ? {}
      : { certificateSha256: [...c.certificateSha256] }),
  }));
}
