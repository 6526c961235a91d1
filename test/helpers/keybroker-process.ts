/**
 * The key broker as a real process (dist/runtime/keybroker/main.js, compiled from runtime/keybroker/main.ts;
 * vitest's global setup keeps dist/ current) for tests: start it from a
 * fixture's configuration, wait for its ready line, and learn how it ended. `exited` resolves on
 * the child's `close` event (after its stdout and stderr have been read to the end), never on
 * `exit`, which can fire while output is still in the pipe: a check of the first stderr line right
 * after `exited` then sees everything the process wrote.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { BrokerFixture } from "./keybroker.js";

const MAIN = join(__dirname, "../../dist/runtime/keybroker/main.js");

/** A started broker process. */
export interface BrokerProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** URLs from the ready line; rejects when the process ends first. */
  readonly ready: Promise<{ kbs: string; admin: string; ca: string }>;
  /** Exit code (null when killed by a signal), once all output has been read. */
  readonly exited: Promise<number | null>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/**
 * Starts the compiled main with the fixture's configuration (listeners on loopback, ephemeral ports).
 *
 * @example
 * const p = startBrokerProcess(brokerFixture());
 * const { kbs, ca } = await p.ready;
 */
export function startBrokerProcess(f: BrokerFixture, env: Record<string, string> = {}): BrokerProcess {
  const cfg = join(f.dir, "keybroker.json");
  writeFileSync(
    cfg,
    JSON.stringify({ ...f.config, listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 } }),
  );
  const child = spawn(process.execPath, [MAIN, "--config", cfg], {
    env: { ...process.env, KEYBROKER_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const ready = new Promise<{ kbs: string; admin: string; ca: string }>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /keybroker ready kbs=(\S+) admin=(\S+) ca=(\S+)/.exec(out);
      if (m) resolve({ kbs: m[1] as string, admin: m[2] as string, ca: m[3] as string });
    });
    void exited.then((code) => reject(new Error(`broker exited (${code}) before it was ready: ${err}`)));
  });
  ready.catch(() => undefined); // a failing start is asserted through `exited`
  return { child, ready, exited, stderr: () => err };
}
