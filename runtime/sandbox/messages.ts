/** What the sandbox prints: the ready block, the curl command, the OIP request body. Pure. */
import type { Provisioned, SandboxPorts } from "./configs.js";
import type { SandboxLayout } from "./layout.js";

/** The text the printed examples classify. */
export const SAMPLE_TEXT = "a great, wonderful product";

/** An Open Inference Protocol request classifying `texts` (one BYTES tensor, tokenized inside the runtime). */
export function inferBody(texts: readonly string[]): string {
  return JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }] });
}

/** Quotes a word for a POSIX shell when it needs quoting. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_/.:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The port `attestctl proxy --sandbox` tries first (a free port when taken; it prints its URL). */
export const SANDBOX_PROXY_PORT = 8088;

/** A ready-to-paste curl command sending `text` to the local proxy (plain HTTP on 127.0.0.1). */
export function proxyCurlCommand(proxyUrl: string, model: string, text: string): string {
  const q = shellQuote;
  return [
    `curl -sS -w '\\n' -H 'content-type: application/json' \\`,
    `    -d ${q(inferBody([text]))} \\`,
    `    ${proxyUrl}/v2/models/${model}/infer`,
  ].join("\n");
}

/** A ready-to-paste curl command sending `text` through the gateway with the sandbox's client certificate. */
export function curlCommand(layout: SandboxLayout, gatewayUrl: string, model: string, text: string): string {
  const q = shellQuote;
  return [
    `curl -sS -w '\\n' --cacert ${q(layout.pki.sandboxCa)} \\`,
    `    --cert ${q(layout.pki.client.cert)} --key ${q(layout.pki.client.key)} \\`,
    `    -H 'content-type: application/json' \\`,
    `    -d ${q(inferBody([text]))} \\`,
    `    ${gatewayUrl}/v2/models/${model}/infer`,
  ].join("\n");
}

/** The block printed once everything is ready. */
export function readyBlock(
  layout: SandboxLayout,
  ports: SandboxPorts,
  p: Provisioned,
  cli: { readonly command: string; readonly dirFlag: string },
  seconds: number,
): string {
  const url = `https://127.0.0.1:${ports.gateway}`;
  const c = `${cli.command} sandbox`;
  return [
    "",
    `ready: the attested path is up on 127.0.0.1 after ${seconds.toFixed(1)} s (Ctrl-C stops everything)`,
    "",
    `  gateway URL         ${url}`,
    `  golden measurement  ${p.measurement}`,
    `                      launch shape ${p.launchShape} of stacks/Pulumi.dev.yaml, release ${p.release}`,
    `  signed manifest     ${layout.release.jws}`,
    `  client credentials  ${layout.pki.client.cert}, ${layout.pki.client.key}`,
    `  logs                ${layout.logs.dir}/`,
    "",
    "Classify a text end to end encrypted (in another shell): the local proxy verifies the runtime's",
    "attestation bundle before anything leaves it, then encrypts each request to the runtime's attested key",
    "(Oblivious HTTP); the gateway relays bytes it cannot read:",
    "",
    `  ${cli.command} proxy --sandbox${cli.dirFlag ? ` ${layout.root}` : ""}`,
    "",
    `then call the proxy like the runtime itself (it prints its URL; port ${SANDBOX_PROXY_PORT} unless taken):`,
    "",
    `  ${proxyCurlCommand(`http://127.0.0.1:${SANDBOX_PROXY_PORT}`, p.model.name, SAMPLE_TEXT)}`,
    "",
    ...(p.openai?.some((m) => m.name === "chat")
      ? [
          "or with any OpenAI SDK pointed at the proxy (base URL http://127.0.0.1:" +
            `${SANDBOX_PROXY_PORT}/v1, models "chat" and "encoder"; streaming works), e.g.:`,
          "",
          `  curl -sS -N -H 'content-type: application/json' -d '{"model":"chat","stream":true,"messages":[{"role":"user","content":"Hello!"}]}' \\`,
          `    http://127.0.0.1:${SANDBOX_PROXY_PORT}/v1/chat/completions`,
          "",
        ]
      : []),
    `or: ${c} infer ${shellQuote(SAMPLE_TEXT)}${cli.dirFlag}    # the same path, in one command`,
    ...(p.openai?.some((m) => m.name === "chat")
      ? [`    ${c} chat 'Hello there!'${cli.dirFlag}    # a streamed chat turn with the bundled chat model`]
      : []),
    `    ${c} status${cli.dirFlag}`,
    `    ${c} tamper --measurement${cli.dirFlag}    # the broker, then the client, refuse a tampered guest (then: tamper --reset)`,
    "",
    "Plain mTLS through the gateway (dev only: the gateway terminates TLS and sees this prompt):",
    "",
    `  ${curlCommand(layout, url, p.model.name, SAMPLE_TEXT)}`,
    "",
  ].join("\n");
}
