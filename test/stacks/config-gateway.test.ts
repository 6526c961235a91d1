/**
 * The gateway's clients, TLS and exposure, the API server route and the observability section of
 * the stack config: defaults, every cross-field rule, and the API key secrets (real keys only; the
 * offline render's stand-in is let through).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { ConfigError } from "../../stacks/errors.js";
import { parseStackConfig } from "../../stacks/config-parse.js";
import { readStackFile } from "../../stacks/stack-file.js";

const NS = "confidential-inference";
const load = (env: string) => readStackFile(join(__dirname, "../../stacks", `Pulumi.${env}.yaml`));

function withEdit(env: string, key: string, change: (v: any) => unknown) {
  const { raw, secretKeys } = load(env);
  const next = change(raw[`${NS}:${key}`] === undefined ? undefined : JSON.parse(raw[`${NS}:${key}`] ?? ""));
  if (next === undefined) delete raw[`${NS}:${key}`];
  else raw[`${NS}:${key}`] = JSON.stringify(next);
  return { raw, secretKeys };
}

function problems({ raw, secretKeys }: { raw: Record<string, string>; secretKeys: Set<string> }): string[] {
  try {
    parseStackConfig(raw, secretKeys);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the config to be rejected");
}

describe("stack config: gateway", () => {
  it("reads clients, TLS and exposure with their defaults", () => {
    const { raw, secretKeys } = load("staging");
    const { config } = parseStackConfig(raw, secretKeys);
    expect(config.gateway).toEqual({
      clients: [
        {
          name: "lab",
          rateLimit: { perSecond: 50, burst: 100 },
          apiKeySecrets: ["gatewayApiKeyLab"],
          certificateSha256: [],
        },
        {
          name: "eval",
          rateLimit: { perSecond: 5, burst: 10 },
          models: ["text-encoder"],
          apiKeySecrets: ["gatewayApiKeyEval"],
          certificateSha256: [],
        },
      ],
      tls: {
        mode: "self-signed",
        dnsNames: ["inference.lab.example.internal"],
        ipAddresses: [],
        privateKeySecret: "gatewayTlsKey",
      },
      expose: {
        kind: "ingress",
        host: "inference.lab.example.internal",
        ingressClassName: "nginx",
        annotations: { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" },
      },
    });
    expect(config.network.apiServer).toEqual({ cidrs: ["10.20.0.5/32"], ports: [443, 6443] });
    expect(config.observability).toEqual({ prometheusOperator: false, labels: {} });
  });

  it.each([
    [
      "no client",
      withEdit("dev", "gateway", (g) => ({ ...g, clients: [] })),
      ["gateway.clients: must list at least one client: a gateway without clients refuses every request"],
    ],
    ["no gateway section", withEdit("dev", "gateway", () => undefined), ["gateway: required"]],
    [
      "two clients of one name",
      withEdit("staging", "gateway", (g) => ({ ...g, clients: [g.clients[0], { ...g.clients[1], name: "lab" }] })),
      ['gateway.clients[1].name: duplicate client "lab"'],
    ],
    [
      "one API key secret for two clients",
      withEdit("staging", "gateway", (g) => ({
        ...g,
        clients: [g.clients[0], { ...g.clients[1], apiKeySecrets: ["gatewayApiKeyLab"] }],
      })),
      [
        'gateway.clients[1].apiKeySecrets[0]: secret "gatewayApiKeyLab" is already an API key of client "lab"',
        "gatewayApiKeyEval: unknown key",
      ],
    ],
    [
      "an unknown model",
      withEdit("staging", "gateway", (g) => ({ ...g, clients: [{ ...g.clients[0], models: ["gpt"] }, g.clients[1]] })),
      ['gateway.clients[0].models[0]: unknown model "gpt" (the stack serves "text-encoder")'],
    ],
    [
      "certificate fingerprints without a client CA",
      withEdit("staging", "gateway", (g) => ({
        ...g,
        clients: [{ ...g.clients[0], certificateSha256: ["a".repeat(64)] }, g.clients[1]],
      })),
      [
        "gateway.clients[0].certificateSha256: client certificates need gateway.tls.clientCaCertificate and client-facing TLS",
      ],
    ],
    [
      "a provided certificate missing",
      withEdit("dev", "gateway", (g) => ({ ...g, tls: { mode: "provided" } })),
      [
        "gateway.tls.certificate: required with mode provided",
        "gatewayTlsKey: required secret is not set (pulumi config set --secret gatewayTlsKey <value>)",
      ],
    ],
    [
      "an ingress without host",
      withEdit("dev", "gateway", (g) => ({ ...g, expose: { kind: "ingress" } })),
      ["gateway.expose.host: required for an ingress"],
    ],
    [
      "an exposed gateway without TLS in prod",
      withEdit("prod", "gateway", (g) => ({ ...g, tls: { mode: "none" } })),
      [
        "gateway.clients[1].certificateSha256: client certificates need gateway.tls.clientCaCertificate and client-facing TLS",
        "gateway.tls.mode: an exposed gateway needs TLS in prod: clients would send prompts in clear text",
      ],
    ],
    [
      "a bad source range",
      withEdit("prod", "gateway", (g) => ({
        ...g,
        expose: { ...g.expose, loadBalancerSourceRanges: ["10.0.0.0/33"] },
      })),
      ["gateway.expose.loadBalancerSourceRanges[0]: must be a CIDR (10.0.0.0/8, 2001:db8::/32)"],
    ],
    [
      "no route to the API server and no static broker CA",
      withEdit("dev", "network", (n) => ({ zones: n.zones })),
      [
        "network.apiServer: required: the key broker publishes its CA bundle to the gateway through the Kubernetes API (or set keyBroker.caCertificate)",
      ],
    ],
  ])("refuses %s", (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it("accepts a static broker CA instead of the API server route (the two-pass fallback)", () => {
    const { raw, secretKeys } = withEdit("dev", "network", (n) => ({ zones: n.zones }));
    const kb = JSON.parse(raw[`${NS}:keyBroker`] ?? "{}");
    raw[`${NS}:keyBroker`] = JSON.stringify({ ...kb, caCertificate: kb.operatorCaCertificate });
    expect(parseStackConfig(raw, secretKeys).config.network.apiServer).toBeUndefined();
  });

  it("takes real API keys and refuses anything else in an API key secret, naming the key only", () => {
    const { raw, secretKeys } = load("staging");
    const real = generateApiKey("lab").apiKey;
    raw[`${NS}:gatewayApiKeyLab`] = real;
    raw[`${NS}:gatewayApiKeyEval`] = "sk-live-0123456789";
    const found = problems({ raw, secretKeys });
    expect(found).toEqual([
      "gatewayApiKeyEval: not an API key (cik_<id>_<secret>): attestctl api-key new | pulumi config set --secret gatewayApiKeyEval",
    ]);
    expect(found.join("\n")).not.toContain("sk-live");
    raw[`${NS}:gatewayApiKeyEval`] = generateApiKey("eval").apiKey;
    expect(parseStackConfig(raw, secretKeys).secrets.get("gatewayApiKeyLab")).toBe(real);
  });
});
