/**
 * A stand-in for the gateway in in-process tests: maps the gateway's URL layout onto a runtime
 * app's confidential endpoint with `inject`, and records every body it relays (what a relay sees).
 */
import type { FastifyInstance } from "fastify";
import type { GatewayTransport } from "../../runtime/client/index.js";

/** The runtime id the stand-in gives its one runtime. */
export const RUNTIME_ID = "0123456789abcdef";

/** A transport to `app` through the gateway's paths; `seen` holds every byte string that crossed it. */
export function injectGateway(
  target: FastifyInstance,
  model: string,
): GatewayTransport & { seen: Buffer[]; app: FastifyInstance } {
  const seen: Buffer[] = [];
  let app = target;
  return {
    seen,
    get app() {
      return app;
    },
    set app(next: FastifyInstance) {
      app = next;
    },
    async get(path) {
      if (path === `/v1/attestation/${model}`) {
        const r = await app.inject("/attestation");
        const body = Buffer.from(JSON.stringify({ model, runtimes: [{ id: RUNTIME_ID, bundle: r.json() }] }));
        seen.push(body);
        return { status: r.statusCode, body };
      }
      const m = /^\/v1\/attestation\/[^/]+\/[0-9a-f]{16}(\?.*)?$/.exec(path);
      if (m === null) return { status: 404, body: Buffer.from("{}") };
      const r = await app.inject(`/attestation${m[1] ?? ""}`);
      seen.push(r.rawPayload);
      return { status: r.statusCode, body: r.rawPayload };
    },
    async post(path, contentType, body) {
      if (path !== `/v1/ohttp/${model}/${RUNTIME_ID}`) throw new Error(`unexpected relay path ${path}`);
      seen.push(Buffer.from(body));
      const r = await app.inject({
        method: "POST",
        url: "/ohttp",
        headers: { "content-type": contentType },
        payload: Buffer.from(body),
      });
      seen.push(r.rawPayload);
      const half = Math.floor(r.rawPayload.length / 2);
      return {
        status: r.statusCode,
        headers: r.headers as Record<string, string>,
        // Two pieces, so streamed answers are opened across network reads.
        body: [r.rawPayload.subarray(0, half), r.rawPayload.subarray(half)],
      };
    },
    close() {},
  };
}
