/**
 * The runtime process of `bench e2e`: `startRuntime` with the bench's sealed models, a key release
 * that hands over the bench's keys and broker-issued certificate (no broker process needed), and
 * OHTTP keys whose bundles carry simulated SNP evidence. Prints `ready <port>`; SIGTERM stops it.
 *
 *   node --import tsx bench/e2e/runtime.ts OPTIONS.json
 */
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { startRuntime } from "../../runtime/inference/runtime.js";
import { createLogger } from "../../runtime/observability/logger.js";
import { SimulatedSnp, simulatedProvider } from "../../runtime/simulators/index.js";

/** What bench/e2e/index.ts writes for this process. */
export interface RuntimeChildOptions {
  readonly artifacts: Array<{
    config: { name: string; text: Record<string, never>; labels?: { from: string; names: string[] } };
    container: string;
    signature: string;
    tokenizerJson: unknown;
  }>;
  readonly keys: Record<string, string>;
  readonly signerPem: string;
  readonly runtime: { readonly cert: string; readonly key: string };
  readonly brokerCa: string;
  readonly gatewayCa: string;
  readonly simDir: string;
  readonly measurement: string;
  readonly manifest: string;
}

async function main(): Promise<void> {
  const o = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as RuntimeChildOptions;
  const sim = await SimulatedSnp.open({ dir: o.simDir });
  const rt = await startRuntime({
    artifacts: o.artifacts.map((a) => ({ ...a, container: Buffer.from(a.container, "base64") })),
    keyRelease: {
      release: async () => ({
        modelKeys: new Map(Object.entries(o.keys).map(([k, v]) => [k, Buffer.from(v, "base64")])),
        serverCertificate: o.runtime.cert,
        serverKey: o.runtime.key,
        brokerCa: o.brokerCa,
      }),
    },
    signerKey: createPublicKey(o.signerPem),
    gatewayCa: o.gatewayCa,
    ort: { intraOpThreads: 1 },
    batching: { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 1024, timeoutMs: 60_000, retryAfterSeconds: 1 },
    bodyLimit: 1024 * 1024,
    logger: createLogger({ service: "inference", level: "warn" }),
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
    attestation: {
      evidence: simulatedProvider(sim, { measurement: o.measurement }),
      lifetimeMs: 3_600_000,
      manifest: o.manifest,
      noncesPerMinute: 60,
      maxReplayEntries: 10_000_000,
    },
  });
  if (rt.phase() !== "ready") throw new Error(`runtime did not boot: ${rt.failure?.code}`);
  process.stdout.write(`ready ${rt.port}\n`);
  await new Promise<void>((done) => process.once("SIGTERM", done));
  await rt.stop();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench runtime failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
