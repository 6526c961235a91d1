/**
 * Stack config schemas of the gateway's clients and exposure (`confidential-inference:gateway`) and
 * of the monitoring resources (`confidential-inference:observability`). API keys and the private key
 * of a provided certificate are secret config keys named here, never values in these sections.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { isAddress, dnsLabel, PEM_CERTIFICATE, sha256Hex } from "./config-primitives.js";

const secretName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, { message: "must be a config key name (letters, digits)" });
const cidr = z.string().refine(
  (v) => {
    const [ip, bits, ...rest] = v.split("/");
    const kind = isIP(ip ?? "");
    const n = Number(bits);
    return rest.length === 0 && kind !== 0 && Number.isInteger(n) && n >= 0 && n <= (kind === 4 ? 32 : 128);
  },
  { message: "must be a CIDR (10.0.0.0/8, 2001:db8::/32)" },
);
const hostname = z.string().refine((v) => isAddress(v) && isIP(v) === 0, { message: "must be a DNS name" });

const client = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: "must be 1-64 letters, digits, '.', '_', '-'" })
    .describe("client name (logs, metrics and rate limits use it)"),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive({ message: "must be > 0" }).default(50).describe("sustained requests per second"),
      burst: z.number().int().min(1).default(100).describe("requests allowed at once"),
    })
    .prefault({})
    .describe("token bucket per client"),
  models: z.array(dnsLabel).optional().describe("models this client may use; absent means every model"),
  apiKeySecrets: z
    .array(secretName)
    .default([])
    .describe(
      "names of secret config keys, each holding one API key of this client (`attestctl api-key new`); only its SHA-256 reaches the cluster",
    ),
  certificateSha256: z
    .array(sha256Hex)
    .default([])
    .describe(
      "SHA-256 fingerprints of client certificates (from `gateway.tls.clientCaCertificate`) that authenticate as this client",
    ),
});

const tls = z.strictObject({
  mode: z
    .enum(["self-signed", "provided", "none"])
    .default("self-signed")
    .describe(
      "client-facing TLS: a self-signed leaf made at `pulumi up` (clients pin stack output `gatewayCertificate`), a certificate from your PKI, or none (only behind a TLS-terminating proxy; dev)",
    ),
  dnsNames: z
    .array(hostname)
    .default([])
    .describe("names clients use, added to the self-signed certificate beside the Service names"),
  ipAddresses: z
    .array(z.string().refine((v) => isIP(v) !== 0, { message: "must be an IP address" }))
    .default([])
    .describe("IP addresses clients use (e.g. the load balancer's), added to the self-signed certificate"),
  certificate: z
    .string()
    .regex(PEM_CERTIFICATE, { message: "must be PEM certificate(s)" })
    .optional()
    .describe("mode provided: the certificate chain (PEM, leaf first)"),
  privateKeySecret: secretName
    .default("gatewayTlsKey")
    .describe("mode provided: name of the secret config key holding its private key (PEM)"),
  clientCaCertificate: z
    .string()
    .regex(PEM_CERTIFICATE, { message: "must be PEM certificate(s)" })
    .optional()
    .describe("CA of the client certificates the gateway requests; absent: API keys only"),
});

const expose = z.strictObject({
  kind: z
    .enum(["none", "load-balancer", "ingress"])
    .default("none")
    .describe(
      "how clients outside the cluster reach the gateway: ClusterIP only, a LoadBalancer Service (port 443), or an Ingress",
    ),
  loadBalancerSourceRanges: z.array(cidr).optional().describe("load-balancer: client CIDRs allowed; absent means any"),
  host: hostname.optional().describe("ingress: the host name clients use (required for an ingress)"),
  ingressClassName: z
    .string()
    .min(1)
    .optional()
    .describe("ingress: the IngressClass; absent means the cluster default"),
  annotations: z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(
      "annotations of the LoadBalancer Service or Ingress (e.g. an internal load balancer, or `nginx.ingress.kubernetes.io/backend-protocol: HTTPS`)",
    ),
});

/** `confidential-inference:gateway`: who may call the gateway and how they reach it. */
export const gatewaySchema = z.strictObject({
  clients: z
    .array(client)
    .min(1, { message: "must list at least one client: a gateway without clients refuses every request" })
    .describe("clients of the gateway"),
  tls: tls.prefault({}).describe("client-facing TLS"),
  expose: expose.prefault({}).describe("exposure outside the cluster"),
});

/** `confidential-inference:observability`: monitoring resources for a Prometheus Operator. */
export const observabilitySchema = z.strictObject({
  prometheusOperator: z
    .boolean()
    .default(false)
    .describe(
      "create a ServiceMonitor (every metrics port) and a PrometheusRule (deploy/prometheus/alerts.yaml); needs the Prometheus Operator CRDs in the cluster",
    ),
  labels: z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(
      "labels added to the ServiceMonitor and PrometheusRule (e.g. `release: prometheus`, for the operator's selectors)",
    ),
});

/** The API server as the key broker's NetworkPolicy sees it (`network.apiServer`). */
export const apiServerSchema = z.strictObject({
  cidrs: z
    .array(cidr)
    .min(1, { message: "must list the API server's addresses" })
    .describe(
      "API server endpoint addresses (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`), as CIDRs",
    ),
  ports: z
    .array(z.number().int().min(1).max(65535))
    .min(1)
    .default([443, 6443])
    .describe("API server ports (the Service port and the endpoints' port)"),
});
