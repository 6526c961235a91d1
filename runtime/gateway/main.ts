/**
 * Gateway entry point (the only place that listens): `node dist/runtime/gateway/main.js --config FILE`
 * (compiled from this file by `npm run build`). Starts the client listener and the ops listener (metrics, probes);
 * watches the broker CA bundle the key broker publishes when configured so; drains on SIGTERM/SIGINT.
 */
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createLogger, CertificateExpiry, MetricsRegistry, buildOpsApp } from "../observability/index.js";
import { buildGatewayApp } from "./app.js";
import { BrokerCaWatcher } from "./broker-ca.js";
import { parseApiKeysFile, parseGatewayConfig } from "./config.js";
import { GatewayError } from "./errors.js";
import { RuntimeClient } from "./upstream.js";
import { streamingRuntimeClient } from "./relay-client.js";

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
  const expiry = new CertificateExpiry(registry);
  const u = config.upstreamTls;
  const upstreamCert = read(u.certFile);
  expiry.observe("upstream-client", upstreamCert);
  const upstreamTls = {
    brokerCa: u.brokerCaFile ? read(u.brokerCaFile) : "",
    cert: upstreamCert,
    key: read(u.keyFile),
  };
  const runtimes = new RuntimeClient(upstreamTls, { timeoutMs: config.upstreamTimeoutMs });
  const relay = streamingRuntimeClient(upstreamTls, { timeoutMs: config.upstreamTimeoutMs });
  const watcher = u.brokerCaBundle
    ? new BrokerCaWatcher({
        file: resolve(base, u.brokerCaBundle.file),
        publisherKey: createPublicKey(read(u.brokerCaBundle.publisherPublicKeyFile)),
        intervalMs: u.brokerCaBundle.refreshSeconds * 1000,
        apply: (pem) => {
          runtimes.setTrust(pem);
          relay.setTrust(pem);
        },
        logger,
        registry,
        expiry,
      })
    : undefined;
  const tls = config.tls
    ? {
        cert: read(config.tls.certFile),
        key: read(config.tls.keyFile),
        ...(config.tls.clientCaFile ? { clientCa: read(config.tls.clientCaFile) } : {}),
      }
    : undefined;
  if (tls) expiry.observe("gateway-tls", tls.cert);
  const app = buildGatewayApp({
    clients: config.clients,
    apiKeys: [...config.apiKeys, ...(config.apiKeysFile ? parseApiKeysFile(read(config.apiKeysFile)) : [])],
    routes: config.routes,
    runtimes,
    relay,
    plaintextApi: config.plaintextApi,
    logger,
    registry,
    bodyLimit: config.bodyLimitBytes,
    timeouts: config.timeouts,
    ...(tls ? { tls } : {}),
  });
  let draining = false;
  // Ready once a broker CA is trusted: without one every runtime would be refused (fail closed).
  const ops = buildOpsApp({ registry, isReady: () => !draining && runtimes.hasTrust });
  // Signal handlers go in before the listeners open and "listening" is logged, so a SIGTERM sent
  // right after start-up still drains instead of killing the process.
  const stopRequested = new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  watcher?.start();
  await ops.listen(config.ops);
  await app.listen(config.listen);
  logger.info({ event: "start", routes: Object.keys(config.routes) }, "gateway listening");
  await stopRequested;
  draining = true;
  watcher?.stop();
  await app.close();
  await ops.close();
  runtimes.close();
  relay.close();
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
