/**
 * The confidential client as the sandbox configures it: the gateway URL and the user's client
 * certificate from the running sandbox, and a trust policy pinning what the first run created: the
 * simulated platform's root (trusted only because this policy names it), the release key that signed
 * the golden manifest, and the platform's TCB as the floor. Used by `sandbox infer`, `sandbox tamper`
 * and `attestctl proxy --sandbox`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfidentialClient,
  httpGateway,
  isClientError,
  parseClientTrust,
  REFUSAL_CODES,
  type ClientTrust,
  type ClientTrustInput,
} from "../client/index.js";
import type { Provisioned } from "./configs.js";
import type { SandboxLayout } from "./layout.js";
import { readProvisioned } from "./provision.js";
import { requireRunning } from "./state.js";

/** The trust policy of the sandbox's client (JSON form, for `--trust` files and the docs). */
export function sandboxTrustInput(layout: SandboxLayout, p: Provisioned): ClientTrustInput {
  const read = (f: string) => readFileSync(f, "utf8");
  return {
    attestation: { allowedRoots: ["simulated"], tcbFloors: { [p.product]: p.tcb } },
    releaseKeys: [read(layout.release.publicKey)],
    simulatedRoot: {
      product: p.product,
      ark: read(join(layout.snp, "ark.pem")),
      ask: read(join(layout.snp, "ask.pem")),
      asvk: read(join(layout.snp, "asvk.pem")),
    },
  };
}

/** What a client of a running sandbox needs. */
export interface SandboxClientConfig {
  readonly gatewayUrl: string;
  readonly model: string;
  readonly trust: ClientTrust;
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
}

/**
 * Reads the running sandbox's client configuration.
 * @throws SandboxError `NOT_RUNNING`, `STATE_INVALID`.
 */
export function sandboxClientConfig(layout: SandboxLayout): SandboxClientConfig {
  const state = requireRunning(layout);
  const p = readProvisioned(layout);
  if (p === undefined) throw new TypeError(`sandboxClientConfig: ${layout.provisioned} is missing`);
  const read = (f: string) => readFileSync(f, "utf8");
  return {
    gatewayUrl: state.gatewayUrl,
    model: p.model.name,
    trust: parseClientTrust(sandboxTrustInput(layout, p)),
    tls: { ca: read(layout.pki.sandboxCa), cert: read(layout.pki.client.cert), key: read(layout.pki.client.key) },
  };
}

/** A confidential client of the running sandbox (close it when done). */
export function sandboxClient(layout: SandboxLayout): { client: ConfidentialClient; config: SandboxClientConfig } {
  const config = sandboxClientConfig(layout);
  const client = new ConfidentialClient({
    transport: httpGateway({ url: config.gatewayUrl, ...config.tls }),
    trust: config.trust,
  });
  return { client, config };
}

/** What the confidential client made of the sandbox's runtime: an answer, or the check that refused it. */
export type ClientProbe =
  | { readonly ok: true; readonly status: number; readonly text: string; readonly measurement: string }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly sent: boolean };

/** Sends `texts` through the confidential client (OHTTP through the gateway); never throws for a refusal. */
export async function probeWithClient(layout: SandboxLayout, body: Uint8Array): Promise<ClientProbe> {
  const { client, config } = sandboxClient(layout);
  try {
    const r = await client.send(config.model, {
      method: "POST",
      path: `/v2/models/${config.model}/infer`,
      headers: { "content-type": "application/json" },
      body,
    });
    return {
      ok: true,
      status: r.status,
      text: Buffer.from(r.body).toString("utf8"),
      measurement: r.runtime.measurement,
    };
  } catch (e) {
    if (!isClientError(e)) throw e;
    return { ok: false, code: e.code, message: e.message, sent: !REFUSAL_CODES.has(e.code) };
  } finally {
    client.close();
  }
}
