/**
 * Key broker entry point (the only place that listens):
 *
 *   node dist/runtime/keybroker/main.js --config FILE   (or KEYBROKER_CONFIG / CI_BROKER_CONFIG=FILE)
 *
 * (compiled from this file by `npm run build`).
 *
 * The PIN comes from the file or environment variable the config names, never from argv. Exit 0 on
 * SIGTERM/SIGINT after closing cleanly; 1 when start-up fails (the first stderr line is
 * `keybroker: CODE: message`); 2 on usage errors.
 */
import { readFileSync } from "node:fs";
import { createLogger } from "../observability/index.js";
import { parseKeyBrokerConfig } from "./config.js";
import { isKeyBrokerError } from "./errors.js";
import { startKeyBrokerService } from "./service.js";

/** Runs the broker until a signal; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const i = argv.indexOf("--config");
  const file = i >= 0 ? argv[i + 1] : (env.KEYBROKER_CONFIG ?? env.CI_BROKER_CONFIG);
  if (!file) {
    process.stderr.write("usage: runtime/keybroker/main.ts --config FILE (or KEYBROKER_CONFIG)\n");
    return 2;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    process.stderr.write(`keybroker: CONFIG_INVALID: cannot read ${file} as JSON\n`);
    return 1;
  }
  const config = parseKeyBrokerConfig(raw);
  const logger = createLogger({ service: "keybroker", level: env.KEYBROKER_LOG_LEVEL ?? "info" });
  const svc = await startKeyBrokerService(config, { logger, env });
  // Handlers first, ready line second: a supervisor may signal the moment it reads the line.
  const stopped = new Promise<void>((done) => {
    const stop = () => void svc.close().then(done, done);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  process.stdout.write(`keybroker ready kbs=${svc.kbsUrl} admin=${svc.adminUrl} ca=${config.stateDir}/ca.pem\n`);
  await stopped;
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(
        `keybroker: ${isKeyBrokerError(e) ? `${e.code}: ${e.message}` : "INTERNAL: start-up failed"}\n`,
      );
      process.exit(1);
    },
  );
}
