/**
 * Slow-client probes for listener timeouts: a client that opens a connection (TCP or TLS) and then
 * sends its request head, or its body, one byte at a time, or nothing at all. Resolves when the
 * server closes the connection (with how long that took and what it answered), or when `maxMs`
 * passes with the connection still open (`closedAfterMs` undefined). Loopback only; bounded in time.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";

/** What the slow client does after connecting. */
export type TrickleMode = "silent" | "headers" | "body";

/** Options of {@link trickle}. */
export interface TrickleOptions {
  readonly port: number;
  readonly host?: string;
  /** TLS client options (the listener speaks TLS); absent: plain TCP. */
  readonly tls?: ConnectionOptions;
  readonly mode: TrickleMode;
  /** Request path (default /). */
  readonly path?: string;
  /** Extra request header lines (e.g. authorization). */
  readonly headers?: readonly string[];
  /** Delay between two bytes, ms (default 100). */
  readonly intervalMs?: number;
  /** Give up after this long, ms (default 8000). */
  readonly maxMs?: number;
}

/** How a slow client fared. */
export interface TrickleResult {
  /** ms from connect to the server closing the connection; undefined when it stayed open for `maxMs`. */
  readonly closedAfterMs: number | undefined;
  /** What the server sent (status line first), as text. */
  readonly response: string;
}

/** Runs one slow client (see the file comment). */
export function trickle(o: TrickleOptions): Promise<TrickleResult> {
  const host = o.host ?? "127.0.0.1";
  const head = [
    `POST ${o.path ?? "/"} HTTP/1.1`,
    `Host: ${host}`,
    "Content-Type: application/json",
    ...(o.headers ?? []),
  ];
  return new Promise((resolve) => {
    let t0 = Date.now();
    let response = "";
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closedAfterMs: number | undefined) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, response });
    };
    const drip = (s: Socket, bytes: string) => {
      let i = 0;
      timer = setInterval(() => {
        if (s.destroyed || i >= bytes.length) return;
        s.write(bytes[i++] as string);
      }, o.intervalMs ?? 100);
    };
    const onConnect = () => {
      t0 = Date.now();
      if (o.mode === "headers") drip(socket, `${head.join("\r\n")}\r\nContent-Length: 1000\r\n\r\n`);
      if (o.mode === "body") {
        socket.write(`${head.join("\r\n")}\r\nContent-Length: 100000\r\n\r\n{`);
        drip(socket, `"pad":"${"x".repeat(99_990)}"}`);
      }
    };
    const socket: Socket = o.tls
      ? tlsConnect({ host, port: o.port, rejectUnauthorized: false, ...o.tls }, onConnect)
      : netConnect({ host, port: o.port }, onConnect);
    socket.on("data", (d: Buffer) => void (response += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => finish(Date.now() - t0));
    const giveUp = setTimeout(() => finish(undefined), o.maxMs ?? 8000);
  });
}
