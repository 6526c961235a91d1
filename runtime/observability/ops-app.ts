/**
 * The operations listener (plain HTTP, a separate port, never exposed to clients): Prometheus metrics and the
 * liveness/readiness probes. It starts before attestation so orchestrators see "live, not ready" during boot;
 * it carries no request data.
 */
import fastify, { type FastifyInstance } from "fastify";
import { listenerTimeouts, type ListenerTimeouts } from "../../core/index.js";
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from "./metrics.js";

/** Options of `buildOpsApp`. */
export interface OpsAppOptions {
  readonly registry: MetricsRegistry;
  /** True when the service can take traffic. */
  readonly isReady: () => boolean;
  /** Header, request and idle timeouts (core `listenerTimeouts`); absent: the defaults. */
  readonly timeouts?: Partial<ListenerTimeouts>;
}

/**
 * Builds the operations app (unstarted).
 *
 * @example
 * const ops = buildOpsApp({ registry, isReady: () => runtime.phase() === "ready" });
 * await ops.listen({ host: "0.0.0.0", port: 9464 });
 */
export function buildOpsApp(opts: OpsAppOptions): FastifyInstance {
  const t = listenerTimeouts(opts.timeouts);
  const app = fastify({ logger: false, ...t.fastify, http: { ...t.server } });
  app.get("/metrics", async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await opts.registry.render()));
  app.get("/v2/health/live", async () => ({ live: true }));
  app.get("/v2/health/ready", async (_req, reply) => {
    const ready = opts.isReady();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: "no such route", code: "ROUTE_NOT_FOUND" }));
  return app;
}
