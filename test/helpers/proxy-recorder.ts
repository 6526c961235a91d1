/**
 * A forward proxy that lets nothing through: it records the host of every request sent to it
 * (`CONNECT host:port` for HTTPS, an absolute URL for plain HTTP) and answers 403. Point
 * `HTTPS_PROXY`/`HTTP_PROXY` (and `GLOBAL_AGENT_*`, which onnxruntime-node's installer reads) at it
 * and exempt the npm registry with `NO_PROXY`: any other host an install tries to reach shows up here.
 */
import { createServer, type AddressInfo, type Server } from "node:net";

/** A running recorder. */
export interface ProxyRecorder {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Hosts that were asked for, in order (with duplicates). */
  readonly hosts: string[];
  close(): Promise<void>;
}

/** Starts a recorder on a free loopback port. */
export async function startProxyRecorder(): Promise<ProxyRecorder> {
  const hosts: string[] = [];
  const server: Server = createServer((socket) => {
    socket.once("data", (chunk: Buffer) => {
      const line = chunk.toString("latin1").split("\r\n", 1)[0] ?? "";
      const [method, target] = line.split(" ");
      const host =
        method === "CONNECT"
          ? target?.replace(/:\d+$/, "")
          : URL.canParse(target ?? "")
            ? new URL(target!).hostname
            : "";
      hosts.push(host || "(unparsed request)");
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hosts,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
