/** `attestctl sandbox` without a running sandbox: usage errors, not-running answers, state files, error table. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxError } from "../../runtime/sandbox/errors.js";
import { sandboxLayout } from "../../runtime/sandbox/layout.js";
import { SOFTHSM2_INSTALL_HINT } from "../../runtime/sandbox/softhsm.js";
import { lastLogError, readRunState } from "../../runtime/sandbox/state.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ci-sandbox-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const USAGE_HEAD = "usage: attestctl sandbox up [--ports default|auto] [--images OCI_DIR] [--dir DIR]\n";

describe("attestctl sandbox: usage", () => {
  it("without a subcommand prints the help on stderr (exit 2); --help on stdout (exit 0)", async () => {
    const none = await runCli(["sandbox"]);
    expect([none.code, none.stdout, none.stderr.startsWith(USAGE_HEAD)]).toEqual([2, "", true]);
    const help = await runCli(["sandbox", "--help"]);
    expect([
      help.code,
      help.stdout.startsWith(USAGE_HEAD),
      help.stdout.includes("tamper    restart the runtime"),
    ]).toEqual([0, true, true]);
  });

  it.each([
    [["sandbox", "start"], 'unknown subcommand "start" (up, down, status, infer, chat, tamper)'],
    [["sandbox", "up", "--ports", "9000"], "--ports must be default or auto"],
    [["sandbox", "up", "--json"], "--json does not apply to sandbox up"],
    [
      ["sandbox", "tamper"],
      "tamper needs exactly one of --measurement, --debug, --tcb, --unbound-key, --expired, --foreign-root, --reset",
    ],
    [
      ["sandbox", "tamper", "--tcb", "--debug"],
      "tamper needs exactly one of --measurement, --debug, --tcb, --unbound-key, --expired, --foreign-root, --reset",
    ],
    [["sandbox", "infer"], "infer takes exactly one TEXT argument (quote it)"],
    [["sandbox", "infer", "a", "b"], "infer takes exactly one TEXT argument (quote it)"],
    [["sandbox", "status", "extra"], 'unexpected argument "extra"'],
    [["sandbox", "chat"], "chat takes exactly one TEXT argument (quote it)"],
    [["sandbox", "chat", "hi", "--max-tokens", "0"], "--max-tokens must be an integer from 1 to 1000000"],
    [["sandbox", "chat", "hi", "--temperature", "hot"], "--temperature must be a number from 0 to 2"],
    [["sandbox", "infer", "hi", "--model", "chat"], "--model does not apply to sandbox infer"],
    [["sandbox", "down", "--bogus"], "unknown option --bogus"],
  ])("%j -> usage error", async (argv, message) => {
    const r = await runCli([...argv, "--dir", dir]);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, "", `${readUsage()}attestctl sandbox: error: ${message}\n`]);
  });

  it("ATTESTCTL_SANDBOX_TIMEOUT must be a positive number", async () => {
    const r = await runCli(["sandbox", "down", "--dir", dir], undefined, { ATTESTCTL_SANDBOX_TIMEOUT: "soon" });
    expect([
      r.code,
      r.stderr.endsWith(
        "attestctl sandbox: error: ATTESTCTL_SANDBOX_TIMEOUT must be a positive number of seconds, got soon\n",
      ),
    ]).toEqual([2, true]);
  });
});

describe("attestctl sandbox: no sandbox running", () => {
  it("status exits 1, down exits 0, infer, tamper and chat are NOT_RUNNING (exit 1)", async () => {
    expect(await runCli(["sandbox", "status", "--dir", dir])).toEqual({
      code: 1,
      stdout: `not running (${dir})\n`,
      stderr: "",
    });
    expect(await runCli(["sandbox", "status", "--json", "--dir", dir])).toEqual({
      code: 1,
      stdout: '{"running":false}\n',
      stderr: "",
    });
    expect(await runCli(["sandbox", "down", "--dir", dir])).toEqual({
      code: 0,
      stdout: `not running (${dir})\n`,
      stderr: "",
    });
    const notRunning = `attestctl sandbox: NOT_RUNNING: no sandbox is running in ${dir}: start one with \`npm start\` (or \`attestctl sandbox up --dir ${dir}\`)\n`;
    expect(await runCli(["sandbox", "infer", "hello", "--dir", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: notRunning,
    });
    expect(await runCli(["sandbox", "tamper", "--measurement", "--dir", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: notRunning,
    });
    expect(await runCli(["sandbox", "chat", "hello", "--dir", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: notRunning,
    });
  });

  it("up without SoftHSM2 says how to install it and starts nothing (SOFTHSM_MISSING, exit 1)", async () => {
    const r = await runCli(["sandbox", "up", "--dir", dir, "--ports", "auto"], undefined, {
      SOFTHSM2_MODULE: "/nonexistent/libsofthsm2.so",
    });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `attestctl sandbox: SOFTHSM_MISSING: SOFTHSM2_MODULE=/nonexistent/libsofthsm2.so does not exist.\n${SOFTHSM2_INSTALL_HINT}\n`,
    });
    expect(existsSync(sandboxLayout(dir).provisioned)).toBe(false);
  });

  it("a state file left by a dead supervisor is not a running sandbox; a corrupt one is STATE_INVALID", async () => {
    const L = sandboxLayout(dir);
    mkdirSync(L.run.dir, { recursive: true });
    writeFileSync(L.run.state, JSON.stringify({ version: 1, pid: 2 ** 22 + 7, services: {} }));
    expect((await runCli(["sandbox", "status", "--dir", dir])).code).toBe(1);
    writeFileSync(L.run.state, "{not json");
    expect(() => readRunState(L)).toThrow(expect.objectContaining({ code: "STATE_INVALID" }));
    const r = await runCli(["sandbox", "infer", "x", "--dir", dir]);
    expect([r.code, r.stderr.startsWith(`attestctl sandbox: STATE_INVALID: ${L.run.state} is unreadable`)]).toEqual([
      1,
      true,
    ]);
    rmSync(L.run.dir, { recursive: true, force: true });
  });
});

describe("lastLogError", () => {
  it("returns the last error line of a service log (pino JSON or an entry point's stderr line)", () => {
    const f = join(dir, "svc.log");
    writeFileSync(
      f,
      [
        JSON.stringify({ level: 30, service: "inference", msg: "runtime booting" }),
        JSON.stringify({
          level: 50,
          service: "inference",
          code: "KEY_RELEASE_FAILED",
          msg: "runtime refused to serve: x",
        }),
        JSON.stringify({ level: 30, service: "inference", msg: "draining" }),
        JSON.stringify({ time: "t", service: "sandbox", event: "spawn" }),
        "",
      ].join("\n"),
    );
    expect(lastLogError(f)).toBe("KEY_RELEASE_FAILED: runtime refused to serve: x");
    writeFileSync(
      f,
      `${JSON.stringify({ level: 30, service: "keybroker", msg: "ok" })}\nkeybroker: HSM_LOGIN_FAILED: the token refused the PIN\n`,
    );
    expect(lastLogError(f)).toBe("keybroker: HSM_LOGIN_FAILED: the token refused the PIN");
    expect(lastLogError(join(dir, "absent.log"))).toBeUndefined();
  });
});

describe("sandbox error codes", () => {
  it("carry code and cause", () => {
    const cause = new Error("inner");
    const e = new SandboxError("READY_TIMEOUT", "slow", { cause });
    expect([e.name, e.code, e.message, e.cause]).toEqual(["SandboxError", "READY_TIMEOUT", "slow", cause]);
  });
});

function readUsage(): string {
  return [
    "usage: attestctl sandbox up [--ports default|auto] [--images OCI_DIR] [--dir DIR]",
    "       attestctl sandbox down|status [--json] [--dir DIR]",
    "       attestctl sandbox infer TEXT [--dir DIR]",
    "       attestctl sandbox chat TEXT [--model NAME] [--max-tokens N] [--temperature T] [--dir DIR]",
    "       attestctl sandbox tamper --measurement|--debug|--tcb|--unbound-key|--expired|--foreign-root|--reset [--dir DIR]",
    "",
  ].join("\n");
}
