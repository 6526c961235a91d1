/** The client's pure pieces: trust policy parsing, proxy routing and failure replies; `attestctl proxy` usage. */
import { describe, expect, it } from "vitest";
import { toPem } from "../../core/index.js";
import { ClientError, failureReply, parseClientTrust, routeOf } from "../../runtime/client/index.js";
import { parseAttestationConfig } from "../../runtime/inference/confidential/config.js";
import { runCli } from "../helpers/cli.js";
import { releaseKeyPair } from "../helpers/confidential.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const problems = (f: () => unknown) => {
  try {
    f();
  } catch (e: any) {
    return [e.code, e.problems.map((p: any) => `${p.path}: ${p.message}`)];
  }
  return ["no error"];
};

describe("parseClientTrust", () => {
  it("pins the AMD roots by default and needs a release key (or measurements)", () => {
    const pem = releaseKeyPair().publicKey.export({ type: "spki", format: "pem" }) as string;
    const trust = parseClientTrust({ releaseKeys: [pem] });
    expect([trust.anchors.map((a) => a.id), trust.policy.allowDebug, trust.releaseKeys.length]).toEqual([
      ["amd-milan", "amd-genoa", "amd-turin"],
      false,
      1,
    ]);
    expect(problems(() => parseClientTrust({}))).toEqual([
      "CLIENT_CONFIG_INVALID",
      ["trust.releaseKeys: at least one release key (or attestation.measurements) is needed to judge measurements"],
    ]);
  });

  it("trusts the simulated root only when the policy names it, and then requires it", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const root = { product: "Genoa", ark: toPem(sim.roots.ark), ask: toPem(sim.roots.ask) };
    const pem = releaseKeyPair().publicKey.export({ type: "spki", format: "pem" }) as string;
    expect(
      parseClientTrust({
        attestation: { allowedRoots: ["simulated"] },
        releaseKeys: [pem],
        simulatedRoot: root,
      }).anchors.map((a) => a.id),
    ).toEqual(["simulated"]);
    expect(
      problems(() => parseClientTrust({ attestation: { allowedRoots: ["simulated"] }, releaseKeys: [pem] })),
    ).toEqual(["CLIENT_CONFIG_INVALID", ["trust.simulatedRoot: required: attestation.allowedRoots lists simulated"]]);
    expect(
      problems(() =>
        parseClientTrust({
          releaseKeys: ["-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----"],
          simulatedRoot: root,
          extra: 1,
        }),
      ),
    ).toEqual(["CLIENT_CONFIG_INVALID", ["trust.extra: unknown key"]]);
    expect(
      problems(() =>
        parseClientTrust({
          releaseKeys: ["-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----"],
          simulatedRoot: root,
        }),
      ),
    ).toEqual([
      "CLIENT_CONFIG_INVALID",
      [
        "trust.simulatedRoot: only when attestation.allowedRoots lists simulated",
        "trust.releaseKeys[0]: not an EC P-384 public key",
      ],
    ]);
  });
});

describe("proxy routing and replies", () => {
  const json = { contentType: "application/json", accept: "*/*" };
  it.each<[string, string, Record<string, unknown> | undefined, { contentType: string; accept: string }, unknown]>([
    [
      "an OIP path names the model",
      "/v2/models/sentiment/infer",
      { model: "other", stream: true },
      json,
      { model: "sentiment", stream: false },
    ],
    [
      "an OIP answer streams when events are accepted",
      "/v2/models/sentiment/infer",
      {},
      { ...json, accept: "text/event-stream" },
      { model: "sentiment", stream: true },
    ],
    [
      "an OpenAI body names the model and asks to stream",
      "/v1/chat/completions",
      { model: "chat", stream: true },
      json,
      { model: "chat", stream: true },
    ],
    ["no model anywhere: the default", "/v1/models", undefined, json, { model: "fallback", stream: false }],
  ])("%s", (_n, path, body, headers, expected) => {
    expect(routeOf(path, Buffer.from(body === undefined ? "" : JSON.stringify(body)), headers, "fallback")).toEqual(
      expected,
    );
  });

  it("answers refusals 502 with the check's code; the gateway's own refusals keep their status", () => {
    expect([
      failureReply(new ClientError("MEASUREMENT_UNKNOWN", "m")),
      failureReply(new ClientError("RELAY_FAILED", "r", { details: { status: 429, upstreamCode: "RATE_LIMITED" } })),
      failureReply(new ClientError("RELAY_FAILED", "r", { details: {} })),
    ]).toEqual([
      { status: 502, body: { error: "m", code: "MEASUREMENT_UNKNOWN" } },
      { status: 429, body: { error: "r", code: "RELAY_FAILED", upstreamCode: "RATE_LIMITED" } },
      { status: 502, body: { error: "r", code: "RELAY_FAILED" } },
    ]);
  });
});

describe("attestctl proxy: usage", () => {
  it.each([
    [[], "give --sandbox [DIR], or --gateway URL and --trust FILE"],
    [["--gateway", "https://g", "--trust", "t.json", "--cert", "c.pem"], "--cert and --key go together"],
    [["--sandbox", "--gateway", "https://g"], "--gateway does not apply with --sandbox"],
    [["--listen", "8088", "--sandbox"], "--listen must be HOST:PORT, got 8088"],
  ])("%j -> exit 2: %s", async (argv, message) => {
    const r = await runCli(["proxy", ...argv]);
    expect([r.code, r.stdout, r.stderr.split("\n").filter(Boolean).pop()]).toEqual([
      2,
      "",
      `attestctl proxy: error: ${message}`,
    ]);
  });
});

describe("the runtime's attestation section", () => {
  const evidence = { kind: "configfs-tsm" };
  it("takes the KBS handshake's evidence by default; without a section or evidence, no endpoint", () => {
    expect(parseAttestationConfig(undefined, evidence)).toEqual({
      evidence,
      bundleLifetimeSeconds: 3600,
      noncesPerMinute: 60,
      maxReplayEntries: 1_000_000,
    });
    expect(parseAttestationConfig(undefined, undefined)).toBeUndefined();
  });

  it("lists every problem: simulation switches only with simulated evidence, bounds", () => {
    expect(
      problems(() => parseAttestationConfig({ bundleLifetimeSeconds: 10, simulate: { expired: true } }, evidence)),
    ).toEqual([
      "ATTESTATION_CONFIG_INVALID",
      ["attestation.bundleLifetimeSeconds: Too small: expected number to be >=60"],
    ]);
    expect(problems(() => parseAttestationConfig({ simulate: { expired: true } }, evidence))).toEqual([
      "ATTESTATION_CONFIG_INVALID",
      ["attestation.simulate: only with simulated-snp evidence (the sandbox)"],
    ]);
  });
});
