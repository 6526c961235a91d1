/**
 * Prompts readable only inside the boundary, proved on real processes: `attestctl sandbox up`
 * (key broker, runtime, gateway) and `attestctl proxy --sandbox` in a temporary directory. A prompt
 * with a unique marker goes through proxy -> gateway -> runtime; then the gateway process's memory
 * is read as a host administrator could (`/proc/<pid>/maps` + `/proc/<pid>/mem`, as root) and must
 * hold neither the marker nor the answer, while the same scan of the runtime (and of the proxy, on
 * the client's side) finds both: the scan can see. Streamed (chunked OHTTP) answers pass the same
 * scan. Then each tampered bundle is refused by a fresh client before anything is relayed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxLayout } from "../../runtime/sandbox/layout.js";
import { ROOT } from "../helpers/cli.js";
import { scanProcessMemory } from "../helpers/memory-scan.js";
import { requireTool } from "../helpers/system-tools.js";
import {
  readJson,
  sandboxCli,
  startProxyProcess,
  startSandbox,
  stopSandbox,
  type RunningProxy,
  type RunningSandbox,
} from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "ci-confidential-e2e-"));
const L = sandboxLayout(dir);
let sandbox: RunningSandbox;
let proxy: RunningProxy;
const SLOW = 600_000;

beforeAll(async () => {
  requireTool("softhsm2");
  sandbox = await startSandbox(dir);
  proxy = await startProxyProcess(dir);
}, 960_000);

afterAll(async () => {
  await proxy?.stop();
  if (sandbox) await stopSandbox(sandbox);
  if (existsSync(L.run.state)) await sandboxCli(dir, ["down"]);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const pids = () => {
  const s = readJson(L.run.state).services;
  return { gateway: s.gateway.pid as number, runtime: s.runtime.pid as number, proxy: proxy.process.pid! };
};

async function classify(marker: string, stream: boolean): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`${proxy.url}/v2/models/sentiment/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(stream ? { accept: "text/event-stream" } : {}) },
    body: JSON.stringify({
      inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: [`terrible, boring ${marker}`, "great fun"] }],
    }),
  });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

/** The answer's own bytes: the logits as the runtime serialised them (no other process makes this string). */
function answerNeedle(text: string): Buffer {
  const logits = (JSON.parse(text).outputs as Array<{ name: string; data: number[] }>).find((o) => o.name === "logits");
  return Buffer.from(`"data":${JSON.stringify(logits!.data)}`);
}

function scanAll(marker: string, answer: Buffer) {
  const needles = [Buffer.from(marker), answer];
  const p = pids();
  return {
    gateway: scanProcessMemory(p.gateway, needles).hits,
    runtime: scanProcessMemory(p.runtime, needles).hits,
    proxy: scanProcessMemory(p.proxy, needles).hits,
  };
}

const relayed = () =>
  readFileSync(L.logs.gateway, "utf8")
    .split("\n")
    .filter((l) => l.includes('"route":"/v1/ohttp/:model/:runtime"')).length;

describe("end-to-end encryption through an untrusted gateway (separate processes, memory read as root)", () => {
  it.each([
    ["an answer read whole (message/ohttp-res)", false],
    ["a streamed answer (message/ohttp-chunked-res)", true],
  ])(
    "%s: the gateway's memory holds neither the marker nor the answer; the runtime's and the proxy's hold both",
    async (_name, stream) => {
      const marker = `quokka${randomBytes(8).toString("hex")}marker`;
      const r = await classify(marker, stream);
      expect([r.status, JSON.parse(r.text).outputs.find((o: { name: string }) => o.name === "label").data]).toEqual([
        200,
        ["negative", "positive"],
      ]);
      // The proxy streams a chunked answer as it opens it (no length known up front); a whole one has a length.
      expect([r.headers.get("content-length") === null, r.headers.get("transfer-encoding")]).toEqual(
        stream ? [true, "chunked"] : [false, null],
      );
      const hits = scanAll(marker, answerNeedle(r.text));
      expect(hits.gateway).toEqual([0, 0]);
      expect(hits.runtime.map((n) => n > 0)).toEqual([true, true]);
      expect(hits.proxy.map((n) => n > 0)).toEqual([true, true]);
    },
    SLOW,
  );

  it(
    "the official openai client through the proxy: chat (whole and streamed) and embeddings; the gateway's memory and every log lack the prompt and the answer",
    async () => {
      const marker = `wombat${randomBytes(8).toString("hex")}marker`;
      const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "unused-the-proxy-holds-the-credentials" });
      const chat = await openai.chat.completions.create({
        model: "chat",
        messages: [{ role: "user", content: `tell ${marker}` }],
        temperature: 0,
      });
      expect([chat.choices[0]!.message.content, chat.choices[0]!.finish_reason]).toEqual([`tell ${marker}`, "stop"]);
      const stream = await openai.chat.completions.create({
        model: "chat",
        messages: [{ role: "user", content: `again ${marker}` }],
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let pieces = 0;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? "";
        pieces++;
      }
      expect(text).toBe(`again ${marker}`);
      expect(pieces).toBeGreaterThan(5);
      const e = await openai.embeddings.create({ model: "encoder", input: [marker, "terrible latency"] });
      expect([e.data.length, e.data[0]!.embedding.length]).toEqual([2, 256]);
      const needles = [Buffer.from(marker)];
      expect(scanProcessMemory(pids().gateway, needles).hits).toEqual([0]);
      expect(scanProcessMemory(pids().runtime, needles).hits[0]).toBeGreaterThan(0);
      for (const log of [L.logs.gateway, L.logs.runtime, L.logs.keybroker])
        expect(readFileSync(log, "utf8")).not.toContain(marker);
      const cli = await sandboxCli(dir, ["chat", `cli ${marker}`, "--temperature", "0"]);
      expect([cli.code, cli.stdout]).toEqual([0, `cli ${marker}\n`]);
    },
    SLOW,
  );

  it.each([
    ["measurement", "an unknown measurement", "MEASUREMENT_UNKNOWN"],
    ["debug", "a debug policy", "DEBUG_POLICY"],
    ["tcb", "a TCB below the floor", "TCB_BELOW_FLOOR"],
    ["unbound-key", "a key configuration not bound in REPORT_DATA", "KEY_NOT_BOUND"],
    ["expired", "an expired bundle", "BUNDLE_EXPIRED"],
    ["foreign-root", "a chain to another root", "ROOT_UNTRUSTED"],
  ])(
    "tamper --%s (%s): a fresh client refuses with %s before anything is relayed",
    async (mode, _what, code) => {
      const t = await sandboxCli(dir, ["tamper", `--${mode}`]);
      expect(t.code, `${t.stdout}\n${t.stderr}`).toBe(0);
      expect(t.stdout).toContain(`client: refused before sending: ${code}: `);
      const before = relayed();
      const check = spawnSync(process.execPath, [join(ROOT, "bin/attestctl"), "proxy", "--sandbox", dir, "--check"], {
        encoding: "utf8",
      });
      expect([check.status, check.stderr.split("\n")[0]?.startsWith(`attestctl proxy: ${code}: `)]).toEqual([1, true]);
      const fresh = await startProxyProcess(dir);
      try {
        const marker = `numbat${randomBytes(8).toString("hex")}`;
        const r = await fetch(`${fresh.url}/v2/models/sentiment/infer`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [marker] }] }),
        });
        expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([502, code]);
        expect(relayed()).toBe(before);
        expect(scanProcessMemory(pids().runtime, [Buffer.from(marker)]).hits).toEqual([0]);
      } finally {
        await fresh.stop();
      }
    },
    SLOW,
  );

  it(
    "tamper --reset: the long-running proxy finds its key stale, verifies the new runtime and sends",
    async () => {
      const t = await sandboxCli(dir, ["tamper", "--reset"]);
      expect(t.code, `${t.stdout}\n${t.stderr}`).toBe(0);
      const r = await classify("after-reset", false);
      expect(r.status).toBe(200);
    },
    SLOW,
  );
});
