/** Choosing the sandbox's ports on 127.0.0.1: the defaults where free, else (or with `auto`) free ones. */
import { createServer, type Server } from "node:net";
import { DEFAULT_PORTS, type SandboxPorts } from "./configs.js";

function bind(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(undefined));
    s.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve(s));
  });
}

/**
 * Picks one port per listener. `default`: each default port if it is free, else a free port (listed
 * in `moved`); `auto`: free ports only (tests, several sandboxes side by side). Holds every port
 * until all are chosen, so no two listeners get the same one.
 */
export async function choosePorts(
  mode: "default" | "auto",
): Promise<{ ports: SandboxPorts; moved: Array<keyof SandboxPorts> }> {
  const held: Server[] = [];
  const moved: Array<keyof SandboxPorts> = [];
  const chosen: Partial<Record<keyof SandboxPorts, number>> = {};
  try {
    for (const name of Object.keys(DEFAULT_PORTS) as Array<keyof SandboxPorts>) {
      let server = mode === "default" ? await bind(DEFAULT_PORTS[name]) : undefined;
      if (!server) {
        if (mode === "default") moved.push(name);
        server = await bind(0);
      }
      if (!server) throw new Error("no free port on 127.0.0.1");
      held.push(server);
      chosen[name] = (server.address() as { port: number }).port;
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  return { ports: chosen as SandboxPorts, moved };
}
