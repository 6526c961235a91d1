import { createHash, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { softwareSigner } from "../../measurements/manifest/index.js";
import { appraiseSnpEvidence, type SnpVerdict } from "../../runtime/attestation/appraise.js";
import {
  MAX_RESULT_TTL_SECONDS,
  RESULT_TOKEN_TYPE,
  signAttestationResult,
  verifyAttestationResult,
  type ResultSigner,
} from "../../runtime/attestation/result/token.js";
import { parseAttestationPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { parseCertificate } from "../../core/index.js";
import { A02_MEASUREMENT, devManifest } from "../helpers/golden.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const ISSUER = "https://kbs.example.internal";
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
const signer = softwareSigner(privateKey, "kbs-token-key-1");
const REPORT_DATA = Buffer.alloc(64, 0x5c);

let cached: SnpVerdict | undefined;
async function verdict(): Promise<SnpVerdict> {
  if (cached) return cached;
  const sim = await sharedSimulatedSnp("Milan");
  const ev = await sim.sign({ measurement: A02_MEASUREMENT, reportData: REPORT_DATA });
  cached = await appraiseSnpEvidence({
    report: ev.report,
    collateral: ev.collateral,
    anchors: [sim.anchor()],
    now: new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000),
    policy: parseAttestationPolicy({ allowedRoots: ["simulated"] }),
    manifests: [devManifest()],
    expectedReportData: REPORT_DATA,
  });
  return cached;
}

const b64json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

describe("attestation-result tokens", () => {
  it("carry the claims a relying party needs, and verify", async () => {
    const v = await verdict();
    const jwt = await signAttestationResult({
      verdict: v,
      signer,
      issuer: ISSUER,
      audience: "inference-runtime",
      now: NOW,
      ttlSeconds: 120,
      nonce: "n-123",
      extraClaims: { tee_pubkey_thumbprint: "abc" },
    });
    const [h] = jwt.split(".");
    expect(b64json(h!)).toEqual({ alg: "ES384", kid: "kbs-token-key-1", typ: RESULT_TOKEN_TYPE });
    const claims = await verifyAttestationResult(jwt, {
      key: publicKey,
      issuer: ISSUER,
      audience: "inference-runtime",
      now: new Date(NOW.getTime() + 60_000),
    });
    const sim = await sharedSimulatedSnp("Milan");
    expect({ ...claims, jti: "x" }).toEqual({
      iss: ISSUER,
      aud: "inference-runtime",
      sub: sim.chipId.toString("hex"),
      iat: 1893456000,
      nbf: 1893456000,
      exp: 1893456120,
      jti: "x",
      tee: "sev-snp",
      verdict: "accepted",
      drift_class: "ok",
      measurement: A02_MEASUREMENT,
      product: "Milan",
      tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
      chip_id: sim.chipId.toString("hex"),
      policy: "0x30000",
      vmpl: 0,
      signer: "vcek",
      root: "simulated",
      release: "2026.11.0-dev",
      report_data_sha256: createHash("sha256").update(REPORT_DATA).digest("hex"),
      report_sha256: v.evidence!.reportSha256,
      failures: [],
      nonce: "n-123",
      tee_pubkey_thumbprint: "abc",
    });
  });

  it("never carry the raw REPORT_DATA", async () => {
    const jwt = await signAttestationResult({ verdict: await verdict(), signer, issuer: ISSUER, now: NOW });
    const payload = Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8");
    for (const enc of ["hex", "base64", "base64url"] as const)
      expect(payload).not.toContain(REPORT_DATA.toString(enc).slice(0, 32));
  });

  it("sign through an HSM-style signer (SHA-384 + raw ECDSA r||s)", async () => {
    const hsm: ResultSigner = {
      alg: "ES384",
      kid: "hsm-1",
      sign: async (input) => new Uint8Array(nodeSign("sha384", input, { key: privateKey, dsaEncoding: "ieee-p1363" })),
    };
    const jwt = await signAttestationResult({ verdict: await verdict(), signer: hsm, issuer: ISSUER, now: NOW });
    await expect(verifyAttestationResult(jwt, { key: publicKey, issuer: ISSUER, now: NOW })).resolves.toMatchObject({
      verdict: "accepted",
    });
    const der: ResultSigner = {
      alg: "ES384",
      kid: "bad",
      sign: async (input) => new Uint8Array(nodeSign("sha384", input, privateKey)),
    };
    await expect(
      signAttestationResult({ verdict: await verdict(), signer: der, issuer: ISSUER, now: NOW }),
    ).rejects.toThrow(TypeError);
  });

  it.each([
    ["expired (one second after exp)", { now: new Date(NOW.getTime() + 301_000) }, "TOKEN_EXPIRED"],
    ["not yet valid", { now: new Date(NOW.getTime() - 10_000) }, "TOKEN_INVALID"],
    ["another issuer", { issuer: "https://evil.example" }, "TOKEN_INVALID"],
    ["another audience", { audience: "someone-else" }, "TOKEN_INVALID"],
    ["another key", { key: generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey }, "TOKEN_INVALID"],
  ] as const)("refuse a token: %s -> %s", async (_name, change, code) => {
    const jwt = await signAttestationResult({
      verdict: await verdict(),
      signer,
      issuer: ISSUER,
      audience: "inference-runtime",
      now: NOW,
    });
    await expect(
      verifyAttestationResult(jwt, {
        key: publicKey,
        issuer: ISSUER,
        audience: "inference-runtime",
        now: NOW,
        ...change,
      }),
    ).rejects.toMatchObject({ code });
  });

  it.each([
    ["alg none", (h: any) => ({ ...h, alg: "none" })],
    ["alg HS384", (h: any) => ({ ...h, alg: "HS384" })],
    ["typ JWT", (h: any) => ({ ...h, typ: "JWT" })],
  ])("refuse a forged header: %s", async (_name, edit) => {
    const jwt = await signAttestationResult({ verdict: await verdict(), signer, issuer: ISSUER, now: NOW });
    const [h, p, s] = jwt.split(".");
    const forged = `${Buffer.from(JSON.stringify(edit(b64json(h!)))).toString("base64url")}.${p}.${s}`;
    await expect(verifyAttestationResult(forged, { key: publicKey, issuer: ISSUER, now: NOW })).rejects.toMatchObject({
      code: "TOKEN_INVALID",
    });
  });

  it("refuse a tampered payload, a long-lived token and garbage", async () => {
    const jwt = await signAttestationResult({ verdict: await verdict(), signer, issuer: ISSUER, now: NOW });
    const [h, p, s] = jwt.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...b64json(p!), drift_class: "ok", measurement: "00".repeat(48) })).toString("base64url")}.${s}`;
    await expect(verifyAttestationResult(tampered, { key: publicKey, issuer: ISSUER, now: NOW })).rejects.toMatchObject(
      { code: "TOKEN_INVALID" },
    );
    const long = await (async () => {
      const header = Buffer.from(JSON.stringify({ alg: "ES384", kid: "k", typ: RESULT_TOKEN_TYPE })).toString(
        "base64url",
      );
      const payload = Buffer.from(
        JSON.stringify({ ...b64json(p!), exp: b64json(p!).iat + MAX_RESULT_TTL_SECONDS + 1 }),
      ).toString("base64url");
      return `${header}.${payload}.${Buffer.from(await signer.sign(new TextEncoder().encode(`${header}.${payload}`))).toString("base64url")}`;
    })();
    await expect(verifyAttestationResult(long, { key: publicKey, issuer: ISSUER, now: NOW })).rejects.toMatchObject({
      code: "TOKEN_INVALID",
      path: "token.exp",
    });
    await expect(
      verifyAttestationResult("not.a.jwt", { key: publicKey, issuer: ISSUER, now: NOW }),
    ).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });

  it("refuse to issue bad tokens (caller misuse)", async () => {
    const v = await verdict();
    await expect(
      signAttestationResult({ verdict: v, signer, issuer: ISSUER, now: NOW, ttlSeconds: MAX_RESULT_TTL_SECONDS + 1 }),
    ).rejects.toThrow(TypeError);
    await expect(
      signAttestationResult({ verdict: v, signer, issuer: ISSUER, now: NOW, extraClaims: { exp: 1 } }),
    ).rejects.toThrow(TypeError);
    await expect(
      signAttestationResult({
        verdict: { ...v, evidence: undefined, claims: undefined },
        signer,
        issuer: ISSUER,
        now: NOW,
      }),
    ).rejects.toThrow(TypeError);
  });
});
