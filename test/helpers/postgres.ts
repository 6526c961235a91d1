/**
 * A real PostgreSQL server per test file, in a temporary folder (`initdb` + `pg_ctl`, TCP on a free
 * loopback port, trust authentication, owned by the `postgres` user when the tests run as root,
 * since PostgreSQL refuses to run as root): the key broker's replicated store runs against the real
 * thing, never a system service. `stop`/`start`/`kill` let fault tests restart or crash it; `proxy`
 * puts a TCP relay between one replica and the server that a test can cut (a network partition).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresBin, requireTool } from "./system-tools.js";

/** A running test server. */
export interface TestPostgres {
  readonly port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly dir: string;
  /** Stops the server (`mode` immediate is a crash: no checkpoint, recovery at the next start). */
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  /** Stops it for good and removes nothing (the temp folder is small). */
  close(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function asPostgres(cmd: string, args: string[]): void {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const r = root
    ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
    : spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args[0] ?? ""} failed (${r.status}): ${(r.stderr || r.stdout).trim()}`);
}

/**
 * Creates and starts a server.
 *
 * @example
 * const pg = await startTestPostgres();
 * // ... store: { kind: "postgres", connectionEnv: "PG_URL" } with PG_URL = pg.url
 * pg.close();
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  requireTool("postgresql");
  const initdb = postgresBin("initdb") as string;
  const pgCtl = postgresBin("pg_ctl") as string;
  const dir = mkdtempSync(join(tmpdir(), "kb-pg-"));
  const data = join(dir, "data");
  if (typeof process.getuid === "function" && process.getuid() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  asPostgres(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=100`;
  const start = () => asPostgres(pgCtl, ["-D", data, "-l", join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"]);
  const stop = (mode: "fast" | "immediate" = "fast") => asPostgres(pgCtl, ["-D", data, "-m", mode, "-w", "stop"]);
  start();
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    dir,
    stop,
    start,
    close: () => {
      try {
        stop("immediate");
      } catch {
        // already stopped
      }
    },
  };
}

/** The server's log (for failure messages). */
export function postgresLog(pg: TestPostgres): string {
  try {
    return readFileSync(join(pg.dir, "log"), "utf8");
  } catch {
    return "";
  }
}

/** A TCP relay to the server that a test can cut: `partition()` stalls it (packets dropped), `heal()` lets traffic through again. */
export interface TcpRelay {
  readonly url: string;
  partition(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port to `port`. */
export async function tcpRelay(port: number): Promise<TcpRelay> {
  let cut = false;
  const pairs = new Set<[Socket, Socket]>();
  const stalled = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (cut) {
      client.pause(); // a partitioned network: the connection opens, nothing ever arrives
      stalled.add(client);
      client.on("error", () => undefined);
      client.on("close", () => stalled.delete(client));
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("data", (d) => (cut ? undefined : upstream.write(d)));
    upstream.on("data", (d) => (cut ? undefined : client.write(d)));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  const relayPort = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  return {
    url: `postgresql://postgres@127.0.0.1:${relayPort}/postgres`,
    partition: () => void (cut = true),
    heal: () => {
      cut = false;
      // Connections opened during the partition are reset (their clients time out and reconnect).
      for (const c of stalled) c.destroy();
      for (const [c, u] of pairs) {
        c.destroy();
        u.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of stalled) c.destroy();
        for (const [c, u] of pairs) {
          c.destroy();
          u.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
