/**
 * Gateway entry point (the only place that listens): `node dist/runtime/gateway/main.js --config FILE`
 * (compiled from this file by `npm run build`). Starts the client listener and the ops listener (metrics, probes);
 * drains on SIGTERM/SIGINT.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createLogger, MetricsRegistry, buildOpsApp } from "../observability/index.js";
import { buildGatewayApp } from "./app.js";
import { parseGatewayConfig } from "./config.js";
import { GatewayError } from "./errors.js";
import { RuntimeClient } from "./upstream.js";

/** Starts the gateway from a config file; resolves with the exit code once stopped. */
export async function main(argv: readonly string[]): Promise<number> {
  const i = argv.indexOf("--config");
  const file = i >= 0 ? argv[i + 1] : process.env.CI_GATEWAY_CONFIG;
  if (!file) {
    process.stderr.write("usage: runtime/gateway/main.ts --config FILE (or CI_GATEWAY_CONFIG)\n");
    return 2;
  }
  const base = dirname(resolve(file));
  const read = (p: string) => readFileSync(resolve(base, p), "utf8");
  const config = parseGatewayConfig(JSON.parse(readFileSync(file, "utf8")));
  const logger = createLogger({ service: "gateway", level: config.logLevel });
  const registry = new MetricsRegistry({ processMetrics: true });
  const u = config.upstreamTls;
  const runtimes = new RuntimeClient(
    { brokerCa: read(u.brokerCaFile), cert: read(u.certFile), key: read(u.keyFile) },
    { timeoutMs: config.upstreamTimeoutMs },
  );
  const app = buildGatewayApp({
    clients: config.clients,
    apiKeys: config.apiKeys,
    routes: config.routes,
    runtimes,
    logger,
    registry,
    bodyLimit: config.bodyLimitBytes,
    ...(config.tls
      ? {
          tls: {
            cert: read(config.tls.certFile),
            key: read(config.tls.keyFile),
            ...(config.tls.clientCaFile ? { clientCa: read(config.tls.clientCaFile) } : {}),
          },
        }
      : {}),
  });
  let draining = false;
  const ops = buildOpsApp({ registry, isReady: () => !draining });
  // Signal handlers go in before the listeners open and "listening" is logged, so a SIGTERM sent
  // right after start-up still drains instead of killing the process.
  const stopRequested = new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  await ops.listen(config.ops);
  await app.listen(config.listen);
  logger.info({ event: "start", routes: Object.keys(config.routes) }, "gateway listening");
  await stopRequested;
  draining = true;
  await app.close();
  await ops.close();
  runtimes.close();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof GatewayError ? `${e.code}: ${e.message}` : "gateway failed to start"}\n`);
      process.exit(1);
    },
  );
}
