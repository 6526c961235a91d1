/**
 * A fleet of key broker replicas as real processes (test/keybroker/fixtures/replica-child.ts) on one
 * PostgreSQL server and one SoftHSM2 token folder, and a runtime's handshake spread over them
 * (`/auth`, `/attest`, `/resource` each on a replica of the caller's choice, new TLS connection per
 * request), for the fault tests. Loopback only; every wait is bounded.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { decryptFromTeeKey, type FlattenedJwe } from "../../runtime/kbs-protocol/jwe.js";
import { expectedReportData } from "../../runtime/kbs-protocol/binding.js";
import type { BrokerFixture } from "./keybroker.js";
import type { fakeClaims } from "./keybroker.js";

const CHILD = join(__dirname, "..", "keybroker", "fixtures", "replica-child.ts");

/** One replica process. */
export interface Replica {
  readonly name: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly ready: Promise<{ kbs: string; admin: string }>;
  /** Resolves when the child prints `paused <point>`. */
  readonly paused: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Starts replica `name` of fixture `f` (own state folder `<f.dir>/<name>`, the fixture's token folder),
 * connecting to `pgUrl`. `env` adds test hooks (KB_CRASH_AT, KB_PAUSE_AT, KB_PAUSE_FILE).
 */
export function startReplica(f: BrokerFixture, name: string, pgUrl: string, env: Record<string, string> = {}): Replica {
  const dir = join(f.dir, name);
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, "keybroker.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      ...f.config,
      stateDir: join(dir, "state"),
      listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 },
      store: { ...f.config.store, replica: name },
    }),
  );
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, KB_CONFIG: cfg, KB_PG_URL: pgUrl, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => r({ code, signal })),
  );
  let onPaused: (p: string) => void = () => undefined;
  const paused = new Promise<string>((r) => (onPaused = r));
  const ready = new Promise<{ kbs: string; admin: string }>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /ready kbs=(\S+) admin=(\S+)/.exec(out);
      if (m) resolve({ kbs: m[1] as string, admin: m[2] as string });
      const p = /paused (\S+)/.exec(out);
      if (p) onPaused(p[1] as string);
    });
    void exited.then((x) => reject(new Error(`replica ${name} exited (${x.code ?? x.signal}) before ready: ${err}`)));
  });
  ready.catch(() => undefined);
  return { name, child, ready, paused, exited, stderr: () => err };
}

/** An HTTPS exchange on a new connection (no keep-alive: a runtime renewing every few minutes opens one). */
export function kbsRequest(
  base: string,
  ca: string,
  method: "GET" | "POST",
  path: string,
  o: { body?: unknown; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(base);
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        ca,
        agent: false,
        timeout: 15_000,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        headers: {
          ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
          ...o.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** A handshake failed at `step` on `replica` (a network error, or an answer other than 200). */
export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly replica: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
  ) {
    super(`${step} on ${replica}: ${status ?? "network error"} ${code ?? ""}`);
  }
}

/**
 * One runtime's handshake with the stand-in evidence: `/auth` on `urls[0]`, `/attest` on `urls[1]`,
 * `/resource/<resource>` on `urls[2]` (cookie only, as Trustee's client does). Returns the released key
 * and the token.
 */
export async function handshake(
  urls: readonly [string, string, string],
  ca: string,
  claims: ReturnType<typeof fakeClaims>,
  resource: string,
  /** The runtime's own address on the loopback range (127.x.y.z): each runtime is its own peer. */
  localAddress?: string,
): Promise<{ key: Buffer; token: string }> {
  const from = localAddress ? { localAddress } : {};
  const step = async <T>(name: string, url: string, fn: () => Promise<{ status: number; body: any } & T>) => {
    let r;
    try {
      r = await fn();
    } catch {
      throw new StepFailed(name, url, undefined, undefined);
    }
    if (r.status !== 200) throw new StepFailed(name, url, r.status, (r.body as { code?: string })?.code);
    return r;
  };
  const auth = await step("auth", urls[0], () =>
    kbsRequest(urls[0], ca, "POST", "/kbs/v0/auth", {
      ...from,
      body: { version: "0.4.0", tee: "snp", "extra-params": "" },
    }),
  );
  const cookie = String(auth.headers["set-cookie"]).split(";")[0] as string;
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const j = publicKey.export({ format: "jwk" });
  const jwk = { kty: "EC" as const, crv: "P-384" as const, alg: "ECDH-ES+A256KW", x: j.x as string, y: j.y as string };
  const nonce = auth.body.nonce as string;
  const att = await step("attest", urls[1], () =>
    kbsRequest(urls[1], ca, "POST", "/kbs/v0/attest", {
      ...from,
      headers: { cookie },
      body: {
        "runtime-data": { nonce, "tee-pubkey": jwk },
        "tee-evidence": {
          primary_evidence: { reportData: expectedReportData(nonce, jwk).toString("hex"), claims },
          additional_evidence: "",
        },
      },
    }),
  );
  const res = await step("resource", urls[2], () =>
    kbsRequest(urls[2], ca, "GET", `/kbs/v0/resource/${resource}`, { ...from, headers: { cookie } }),
  );
  return { key: decryptFromTeeKey(res.body as FlattenedJwe, privateKey as KeyObject), token: att.body.token as string };
}
