/**
 * Renders the config reference (every key, type, default, meaning) as a Markdown table from the
 * schema itself, so the docs cannot drift from the code. `npx tsx scripts/config-reference.ts`
 * writes it to `docs/configuration.md`; `test/stacks/config-reference.test.ts` checks that copy is current.
 */
import { z } from "zod";
import { CONFIG_NAMESPACE } from "./errors.js";
import { stackConfigSchema } from "./config-schema.js";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeOf).join(" or ");
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "values"}`;
  if (s.type === "object" && s.properties === undefined && typeof s.additionalProperties === "object")
    return `map of name to ${typeOf(s.additionalProperties)}`;
  if (Array.isArray(s.type)) return s.type.join(" or ");
  return s.type ?? "value";
}

function fmtDefault(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) {
    const v = s.default;
    if (Array.isArray(v)) return v.length === 0 ? "`[]`" : `\`${JSON.stringify(v)}\``;
    if (typeof v === "object" && v !== null) return Object.keys(v).length === 0 ? "`{}`" : "(defaults below)";
    return `\`${String(v)}\``;
  }
  return required ? "required" : "optional";
}

function walk(schema: JsonSchema, path: string, required: boolean, rows: string[]): void {
  const desc = (schema.description ?? "").replace(/\|/g, "\\|");
  rows.push(`| \`${path}\` | ${typeOf(schema)} | ${fmtDefault(schema, required)} | ${desc} |`);
  const object = schema.type === "array" ? schema.items : schema;
  if (object === undefined) return;
  const prefix = schema.type === "array" ? `${path}[]` : path;
  if (object.properties) {
    for (const [key, child] of Object.entries(object.properties))
      walk(child, `${prefix}.${key}`, object.required?.includes(key) ?? false, rows);
  } else if (typeof object.additionalProperties === "object") {
    const child = object.additionalProperties;
    for (const [key, grand] of Object.entries(child.properties ?? {}))
      walk(grand, `${prefix}.<name>.${key}`, child.required?.includes(key) ?? false, rows);
  }
}

/** The Markdown config reference table. */
export function configReference(): string {
  const root = z.toJSONSchema(stackConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"];
  for (const [key, child] of Object.entries(root.properties ?? {}))
    walk(child, `${CONFIG_NAMESPACE}:${key}`, root.required?.includes(key) ?? false, rows);
  rows.push(
    `| \`${CONFIG_NAMESPACE}:hsmPin\` | secret string | required | HSM user PIN (name set by \`hsm.pinSecret\`) |`,
  );
  rows.push(
    `| \`${CONFIG_NAMESPACE}:sshPrivateKey\` | secret string | required with hosts | SSH private key for the hosts (name set by \`hosts[].ssh.privateKeySecret\`) |`,
  );
  rows.push(
    `| \`${CONFIG_NAMESPACE}:releaseSigningKey\` | secret string | required | release signing private key, PKCS#8 PEM (name set by \`golden.signingKeySecret\`) |`,
  );
  rows.push(
    `| \`${CONFIG_NAMESPACE}:keyBrokerStoreConnection\` | secret string | required with \`keyBroker.store\` | PostgreSQL connection string of the broker fleet's store (name set by \`keyBroker.store.connectionSecret\`) |`,
  );
  rows.push(
    `| \`${CONFIG_NAMESPACE}:<API key secret>\` | secret string | one per name in \`gateway.clients[].apiKeySecrets\` | an API key of that client, \`cik_<12 hex>_<43 base64url>\` (\`attestctl api-key new\`); the gateway gets only its SHA-256 |`,
  );
  rows.push(
    `| \`${CONFIG_NAMESPACE}:gatewayTlsKey\` | secret string | required with \`gateway.tls.mode: provided\` | private key (PEM) of the gateway's client-facing certificate (name set by \`gateway.tls.privateKeySecret\`) |`,
  );
  return `${rows.join("\n")}\n`;
}

/** The whole `docs/configuration.md` page: a short introduction and {@link configReference}'s table. */
export function configurationPage(): string {
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from stacks/config-schema.ts by `npx tsx scripts/config-reference.ts`; do not edit. -->",
    "",
    "Every key of `stacks/Pulumi.<env>.yaml` (`confidential-inference:<key>`), generated from the schema in",
    "`stacks/config-schema.ts`. The program validates the whole configuration before it creates any resource",
    "and lists every bad key by its path; how to set secrets and deploy is in [deploy.md](deploy.md).",
    "",
    configReference(),
  ].join("\n");
}
