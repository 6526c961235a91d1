/**
 * End-to-end proof on one machine: `attestctl sandbox up` runs the key broker (SoftHSM2), the
 * inference runtime (simulated SNP evidence, real onnxruntime) and the gateway as separate
 * processes in a temporary directory with free ports, and real clients talk to them: the printed
 * `curl` command and curl with and without client certificates, and Node's https. No timing is asserted.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditLog } from "../../runtime/keybroker/state/audit.js";
import { sandboxLayout } from "../../runtime/sandbox/layout.js";
import { requireTool } from "../helpers/system-tools.js";
import {
  filesUnder,
  printedCurl,
  readJson,
  sandboxCli,
  startSandbox,
  stopSandbox,
  type RunningSandbox,
} from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "ci-sandbox-e2e-"));
const L = sandboxLayout(dir);
/** A prompt that must never be written anywhere under the sandbox directory. */
const MARKER = `zanzibar${randomBytes(6).toString("hex")}quokka`;
let sandbox: RunningSandbox;
/** Per-test budget: a tamper restarts the runtime, which can take minutes on a loaded 2-core machine (no timing is asserted). */
const SLOW = 600_000;

beforeAll(async () => {
  requireTool("softhsm2");
  requireTool("curl");
  sandbox = await startSandbox(dir);
}, 960_000);

afterAll(async () => {
  if (sandbox) await stopSandbox(sandbox);
  if (existsSync(L.run.state)) await sandboxCli(dir, ["down"]);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

interface Reply {
  readonly status?: number;
  readonly body?: any;
  readonly error?: string;
}

/** One HTTPS request with Node's client; resolves with the status and JSON body, or the error code. */
function nodeHttps(
  port: number,
  path: string,
  o: { ca: string; cert?: string; key?: string; body?: unknown },
): Promise<Reply> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: payload ? "POST" : "GET",
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        agent: false,
        headers: payload
          ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") }),
        );
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(payload);
  });
}

const state = () => readJson(L.run.state);
const read = (p: string) => readFileSync(p, "utf8");
const client = () => ({ ca: read(L.pki.sandboxCa), cert: read(L.pki.client.cert), key: read(L.pki.client.key) });
const labelsOf = (r: Reply) =>
  (r.body?.outputs as Array<{ name: string; data: unknown[] }> | undefined)?.find((o) => o.name === "label")?.data;
const textBody = (texts: string[]) => ({
  inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
});

describe("sandbox end to end (separate processes, real clients)", () => {
  it(
    "first run: sets everything up and prints the gateway URL, a curl command and the golden measurement",
    () => {
      const out = sandbox.output();
      expect(out).toContain("sandbox: first run, setting up");
      expect(out).toContain(`gateway URL         ${state().gatewayUrl}`);
      // The dev stack's launch shape, as committed in stacks/golden/dev.json (sev-snp-measure vector a02).
      const golden = readJson(join(__dirname, "../../stacks/golden/dev.json")).launchShapes["runtime-small"]
        .measurement as string;
      expect(out).toContain(`golden measurement  ${golden}`);
      expect(readJson(L.provisioned).measurement).toBe(golden);
      expect(state().services).toMatchObject({
        keybroker: { status: "ready" },
        runtime: { status: "ready" },
        gateway: { status: "ready" },
      });
    },
    SLOW,
  );

  it(
    "the printed curl command returns a classification",
    async () => {
      const r = spawnSync("bash", ["-c", printedCurl(sandbox.output()).replace(/^\s+/, "")], {
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const reply = JSON.parse(r.stdout);
      expect([reply.model_name, labelsOf({ body: reply })]).toEqual(["sentiment", ["positive"]]);
    },
    SLOW,
  );

  it(
    "curl with the client certificate classifies a batch (and the marker prompt) through the gateway",
    async () => {
      const r = spawnSync(
        "curl",
        [
          "-sS",
          "--cacert",
          L.pki.sandboxCa,
          "--cert",
          L.pki.client.cert,
          "--key",
          L.pki.client.key,
          "-H",
          "content-type: application/json",
          "-d",
          JSON.stringify(textBody(["I loved it, great fun", `boring and awful ${MARKER}`])),
          `${state().gatewayUrl}/v2/models/sentiment/infer`,
        ],
        { encoding: "utf8", timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(labelsOf({ body: JSON.parse(r.stdout) })).toEqual(["positive", "negative"]);
    },
    SLOW,
  );

  it(
    "Node's https client with the client certificate gets the OIP response; `sandbox infer` (end to end encrypted) prints it",
    async () => {
      const r = await nodeHttps(state().ports.gateway, "/v2/models/sentiment/infer", {
        ...client(),
        body: textBody([`${MARKER} a wonderful, great product`]),
      });
      expect([r.status, labelsOf(r)]).toEqual([200, ["positive"]]);
      const cli = await sandboxCli(dir, ["infer", `terrible, awful, boring ${MARKER}`]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(labelsOf({ body: JSON.parse(cli.stdout) })).toEqual(["negative"]);
    },
    SLOW,
  );

  it(
    "the gateway refuses clients without a certificate or API key (401 UNAUTHENTICATED)",
    async () => {
      const r = await nodeHttps(state().ports.gateway, "/v2/models/sentiment/infer", {
        ca: read(L.pki.sandboxCa),
        body: textBody(["hello"]),
      });
      expect([r.status, r.body?.code]).toEqual([401, "UNAUTHENTICATED"]);
      const c = spawnSync(
        "curl",
        [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--cacert",
          L.pki.sandboxCa,
          "-H",
          "content-type: application/json",
          "-d",
          "{}",
          `${state().gatewayUrl}/v2/models/sentiment/infer`,
        ],
        { encoding: "utf8" },
      );
      expect(c.stdout).toBe("401");
    },
    SLOW,
  );

  it(
    "the runtime refuses clients without a gateway certificate (TLS), and serves the gateway's",
    async () => {
      const port = state().ports.runtime as number;
      const brokerCa = read(L.keybroker.ca);
      const none = await nodeHttps(port, "/v2/health/ready", { ca: brokerCa });
      expect(none.error).toBe("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
      const wrongCa = await nodeHttps(port, "/v2/health/ready", {
        ca: brokerCa,
        cert: read(L.pki.client.cert),
        key: read(L.pki.client.key),
      });
      expect(wrongCa.status).toBeUndefined();
      expect(["ECONNRESET", "ERR_SSL_TLSV13_ALERT_UNKNOWN_CA"]).toContain(wrongCa.error);
      const curlNone = spawnSync(
        "curl",
        ["-sS", "--cacert", L.keybroker.ca, `https://127.0.0.1:${port}/v2/health/ready`],
        { encoding: "utf8" },
      );
      expect(curlNone.status).toBe(56);
      const gateway = await nodeHttps(port, "/v2/health/ready", {
        ca: brokerCa,
        cert: read(L.pki.gatewayUpstream.cert),
        key: read(L.pki.gatewayUpstream.key),
      });
      expect([gateway.status, gateway.body]).toEqual([200, { ready: true }]);
    },
    SLOW,
  );

  it.each([
    ["measurement", "unknown-measurement", "MEASUREMENT_NOT_ALLOWED", "MEASUREMENT_UNKNOWN"],
    ["tcb", "tcb-below-floor", "TCB_BELOW_FLOOR at report.reportedTcb.snp", "TCB_BELOW_FLOOR"],
    ["debug", "invalid-evidence", "DEBUG_ALLOWED at report.policy.debug", "DEBUG_POLICY"],
  ])(
    "tampered evidence (--%s) gets no key: the broker denies it (%s), the gateway refuses to route; shown in the bundle only, the client refuses it",
    async (mode, driftClass, failure, clientCode) => {
      const before = parseAuditLog(read(L.keybroker.audit)).length;
      const r = await sandboxCli(dir, ["tamper", `--${mode}`]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`key broker: denied, drift class ${driftClass} (ATTESTATION_DENIED)`);
      expect(r.stdout).toContain(`refused with ATTESTATION_DENIED (drift class ${driftClass}`);
      expect(r.stdout).toContain(
        'gateway: HTTP 503 {"error":"the runtime is unreachable","code":"UPSTREAM_UNAVAILABLE"}',
      );
      expect(r.stdout).toContain(`client: refused before sending: ${clientCode}: `);
      const lines = parseAuditLog(read(L.keybroker.audit)).slice(before);
      const attest = lines.filter((l) => l.event === "kbs.attest");
      // First the tampered guest (denied), then the same guest showing genuine evidence to the broker.
      expect(attest.map((l) => [l.decision, l.driftClass])).toEqual([
        ["denied", driftClass],
        ["granted", "ok"],
      ]);
      expect(attest[0]?.code).toBe("ATTESTATION_DENIED");
      expect(attest[0]?.detail).toContain(failure);
      expect(lines.filter((l) => l.event === "kbs.resource" && l.ts < attest[1]!.ts)).toEqual([]);
      // What plain mTLS costs: the gateway cannot tell; only the client's own check refuses that runtime.
      const g = await nodeHttps(state().ports.gateway, "/v2/models/sentiment/infer", {
        ...client(),
        body: textBody(["hello"]),
      });
      expect([g.status, state().services.runtime.status, state().tamper, state().tamperScope]).toEqual([
        200,
        "ready",
        mode,
        "bundle",
      ]);
    },
    SLOW,
  );

  it(
    "tamper --reset: the runtime attests again and serves",
    async () => {
      const r = await sandboxCli(dir, ["tamper", "--reset"]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const g = await nodeHttps(state().ports.gateway, "/v2/models/sentiment/infer", {
        ...client(),
        body: textBody(["great fun"]),
      });
      expect([g.status, labelsOf(g)]).toEqual([200, ["positive"]]);
    },
    SLOW,
  );

  it("stopping and restarting keeps keys and manifests (nothing is re-created)", async () => {
    const snapshot = () => {
      const s = readJson(join(L.keybroker.state, "state.json"));
      return {
        keys: s.keys,
        dataKeys: s.dataKeys,
        manifests: s.manifests.map((m: { id: string; status: string; release: string }) => [m.id, m.status, m.release]),
        token: filesUnder(L.keybroker.tokens).filter((f) => f.endsWith(".object") && !f.endsWith("token.object")),
        jws: read(L.release.jws),
        container: createHash("sha256").update(readFileSync(L.models.container)).digest("hex"),
        provisioned: read(L.provisioned),
        snp: read(join(L.snp, "simulator.json")),
      };
    };
    const before = snapshot();
    const down = await sandboxCli(dir, ["down"]);
    expect([down.code, down.stdout.trim().split("\n").pop()]).toEqual([0, "stopped"]);
    expect(await sandbox.exited).toBe(0);
    expect(existsSync(L.run.state)).toBe(false);
    expect((await sandboxCli(dir, ["status"])).code).toBe(1);

    sandbox = await startSandbox(dir);
    expect(sandbox.output()).toContain("sandbox: reusing");
    expect(sandbox.output()).not.toContain("first run");
    expect(snapshot()).toEqual(before);
    const r = await sandboxCli(dir, ["infer", "I loved it, great fun"]);
    expect([r.code, labelsOf({ body: JSON.parse(r.stdout) })]).toEqual([0, ["positive"]]);
  }, 960_000);

  it(
    "the marker prompt appears in no log or file under the sandbox directory",
    () => {
      const files = filesUnder(dir);
      expect(files).toContain(L.logs.runtime);
      expect(files).toContain(L.logs.gateway);
      expect(files).toContain(L.keybroker.audit);
      const marker = Buffer.from(MARKER, "utf8");
      expect(files.filter((f) => readFileSync(f).includes(marker))).toEqual([]);
    },
    SLOW,
  );
});
