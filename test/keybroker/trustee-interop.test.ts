/**
 * Trustee interoperability (issue 15): the broker, over real TLS with the real SNP verifier (simulated
 * signer, byte-exact reports), driven with exactly the messages Trustee's guest components send:
 * `extra-params` with the supported hash algorithms, P-256 (default), P-521 and RSA-OAEP-256 TEE
 * keys, `"init-data": null` or TOML initdata bound to HOST_DATA, SNP evidence as the sev crate's JSON
 * of the report and certificate table, resources fetched with the session cookie only, and the JWE
 * decrypted the way Trustee's client does (AAD rebuilt from the parsed protected header).
 */
import { createHash } from "node:crypto";
import { runtimeInitData } from "../../components/inference/initdata.js";
import { RUNTIME_ARGS, RUNTIME_MOUNTS } from "../../components/inference/workloads.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { adminImportDataKey, adminImportManifest } from "../../runtime/keybroker/admin-service.js";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import {
  auditLines,
  brokerFixture,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  simulatedVerifier,
  startBroker,
  type BrokerFixture,
} from "../helpers/keybroker.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import {
  serdeProtectedHeader,
  sevCertChainJson,
  sevReportJson,
  trusteeDecrypt,
  TrusteeHttp,
  trusteeKeyPair,
  trusteeReportData,
  type TrusteeKeyAlgorithm,
} from "../helpers/trustee-client.js";

const M = measurementOf("inference-trustee");
/** The Kata guest of confidential pods: one measurement for every pod; HOST_DATA tells them apart. */
const M_KATA = measurementOf("inference-kata-pod");
const podInitData = (image: string) =>
  runtimeInitData({
    image,
    brokerUrl: "https://key-broker.ci-keys.svc.cluster.local:8444",
    args: RUNTIME_ARGS,
    mounts: RUNTIME_MOUNTS,
  });
const OURS = podInitData(`registry.example/runtime@sha256:${"a".repeat(64)}`);
const OTHER = podInitData(`registry.example/runtime@sha256:${"b".repeat(64)}`);
const MODEL_KEY = Buffer.alloc(32, 0x5a);
const INITDATA = `algorithm = "sha384"
version = "0.1.0"

[data]
"aa.toml" = '''
[token_configs]
[token_configs.kbs]
url = "https://keybroker.keys.svc:8444"
'''
"policy.rego" = '''
package agent_policy
default AllowRequestsFailingPolicy := false
'''
`;

describe("Trustee's guest components against the broker", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  let sim: SimulatedSnp;

  beforeAll(async () => {
    sim = await sharedSimulatedSnp("Genoa");
    f = brokerFixture({ attestation: { additionalDevices: ["nvidia"] } });
    broker = await startBroker(f, simulatedVerifier(sim));
    net = await listen(broker, f);
    await adminImportManifest(
      broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r-trustee", status: "active", shapes: { "inference-trustee": M } }),
        f.release.privateKey,
      ),
    );
    const kata = goldenManifest({ release: "r-kata", status: "active", shapes: { "inference-kata-pod": M_KATA } });
    const bound = {
      ...kata,
      launchShapes: { "inference-kata-pod": { ...kata.launchShapes["inference-kata-pod"]!, hostData: OURS.hostData } },
    };
    await adminImportManifest(broker, "operator:test", await signedManifest(bound, f.release.privateKey));
    await adminImportDataKey(broker, "operator:test", "default/model/sentiment", Buffer.from(MODEL_KEY));
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  /** rcar_handshake + get_resource of guest-components, with this evidence's HOST_DATA and init-data. */
  async function rcar(o: {
    algorithm: TrusteeKeyAlgorithm;
    initData: string | null;
    hostData?: Buffer;
    additionalEvidence?: string;
    measurement?: string;
  }) {
    const http = new TrusteeHttp(net.kbsUrl, net.ca);
    const auth = await http.send("POST", "/kbs/v0/auth", {
      version: "0.4.0",
      tee: "snp",
      "extra-params": { "supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"] },
    });
    expect(auth.status).toBe(200);
    const hash = (auth.body["extra-params"]?.["selected-hash-algorithm"] as string | undefined) ?? "sha384";
    const { privateKey, pubkey } = trusteeKeyPair(o.algorithm);
    const additional = o.additionalEvidence ?? "";
    const signed = await sim.sign({
      measurement: o.measurement ?? M,
      reportData: trusteeReportData(pubkey, auth.body.nonce, additional, hash),
      ...(o.hostData ? { hostData: o.hostData } : {}),
    });
    const attestation = {
      "init-data": o.initData === null ? null : { format: "toml", body: o.initData },
      "runtime-data": { nonce: auth.body.nonce, "tee-pubkey": pubkey },
      "tee-evidence": {
        primary_evidence: {
          attestation_report: sevReportJson(signed.report),
          cert_chain: sevCertChainJson(signed.certTable),
        },
        additional_evidence: additional,
      },
    };
    const attest = await http.send("POST", "/kbs/v0/attest", attestation);
    if (attest.status !== 200) return { attest, resource: undefined, privateKey };
    const resource = await http.send("GET", "/kbs/v0/resource/default/model/sentiment");
    return { attest, resource, privateKey };
  }

  it.each([
    ["a P-256 key (Trustee's default), init-data null", "ECDH-ES+A256KW-P256", "P-256"],
    ["a P-521 key, init-data null", "ECDH-ES+A256KW-P521", "P-521"],
    ["an RSA-OAEP-256 key, init-data null", "RSA-OAEP-256", undefined],
  ] as const)("releases the model key to %s, decrypted as Trustee's client does", async (_n, algorithm, crv) => {
    const { attest, resource, privateKey } = await rcar({ algorithm, initData: null });
    expect(attest.status).toBe(200);
    expect(Object.keys(attest.body)).toEqual(["token"]);
    expect(resource?.status).toBe(200);
    const header = JSON.parse(Buffer.from(resource?.body.protected, "base64url").toString("utf8"));
    // The bytes Trustee's server writes and its client rebuilds: epk members sorted (crv, kty, x, y).
    expect(Buffer.from(resource?.body.protected, "base64url").toString("utf8")).toBe(serdeProtectedHeader(header));
    if (crv) {
      expect(header.alg).toBe("ECDH-ES+A256KW");
      expect(Object.keys(header.epk)).toEqual(["crv", "kty", "x", "y"]);
      expect(header.epk.crv).toBe(crv);
    } else expect(header).toEqual({ alg: "RSA-OAEP-256", enc: "A256GCM" });
    expect(trusteeDecrypt(resource?.body, privateKey).equals(MODEL_KEY)).toBe(true);
  });

  it("checks TOML init-data against HOST_DATA (Trustee's rule) and releases when it matches", async () => {
    const hostData = createHash("sha384").update(INITDATA).digest().subarray(0, 32);
    const ok = await rcar({ algorithm: "RSA-OAEP-256", initData: INITDATA, hostData });
    expect(ok.attest.status).toBe(200);
    expect(trusteeDecrypt(ok.resource?.body, ok.privateKey).equals(MODEL_KEY)).toBe(true);
    const p256 = await rcar({ algorithm: "ECDH-ES+A256KW-P256", initData: INITDATA, hostData });
    expect(trusteeDecrypt(p256.resource?.body, p256.privateKey).equals(MODEL_KEY)).toBe(true);
  });

  it("releases to a Kata pod whose initdata (image digest, command, agent policy) is the one the golden manifest binds", async () => {
    const ok = await rcar({
      algorithm: "ECDH-ES+A256KW-P256",
      initData: OURS.toml,
      hostData: Buffer.from(OURS.hostData, "hex"),
      measurement: M_KATA,
    });
    expect(ok.attest.status).toBe(200);
    expect(ok.resource?.status).toBe(200);
    expect(trusteeDecrypt(ok.resource?.body, ok.privateKey).equals(MODEL_KEY)).toBe(true);
  });

  it("refuses a pod in the same Kata guest whose initdata pins another image (HOST_DATA_MISMATCH, audited)", async () => {
    const { attest, resource } = await rcar({
      algorithm: "ECDH-ES+A256KW-P256",
      initData: OTHER.toml,
      hostData: Buffer.from(OTHER.hostData, "hex"),
      measurement: M_KATA,
    });
    expect(resource).toBeUndefined();
    expect(attest.status).toBe(403);
    expect(attest.body).toMatchObject({ code: "ATTESTATION_DENIED", driftClass: "invalid-evidence" });
    expect(attest.body.detail).toContain("HOST_DATA_MISMATCH at report.hostData");
    expect(auditLines(f).at(-1)).toMatchObject({ event: "kbs.attest", decision: "denied", code: "ATTESTATION_DENIED" });
    // launched without initdata at all: HOST_DATA zero, refused the same way
    const none = await rcar({ algorithm: "ECDH-ES+A256KW-P256", initData: null, measurement: M_KATA });
    expect([none.attest.status, none.attest.body.code]).toEqual([403, "ATTESTATION_DENIED"]);
  });

  it("refuses evidence whose HOST_DATA is not the init-data digest (401 EVIDENCE_REJECTED, audited)", async () => {
    const { attest } = await rcar({
      algorithm: "ECDH-ES+A256KW-P256",
      initData: INITDATA,
      hostData: Buffer.alloc(32, 7),
    });
    expect(attest.status).toBe(401);
    expect(attest.body).toMatchObject({ code: "EVIDENCE_REJECTED", driftClass: "invalid-evidence" });
    expect(attest.body.detail).toContain("INIT_DATA_MISMATCH at report.hostData");
    expect(auditLines(f).at(-1)).toMatchObject({
      event: "kbs.attest",
      decision: "denied",
      code: "EVIDENCE_REJECTED",
      verdict: "rejected",
    });
  });

  it("accepts additional evidence of a device the policy names, bound through REPORT_DATA", async () => {
    const additional = JSON.stringify({ nvidia: { evidence: "opaque" } });
    const { attest, resource, privateKey } = await rcar({
      algorithm: "ECDH-ES+A256KW-P256",
      initData: null,
      additionalEvidence: additional,
    });
    expect(attest.status).toBe(200);
    expect(trusteeDecrypt(resource?.body, privateKey).equals(MODEL_KEY)).toBe(true);
    const refused = await rcar({
      algorithm: "ECDH-ES+A256KW-P256",
      initData: null,
      additionalEvidence: JSON.stringify({ sampledevice: {} }),
    });
    expect(refused.attest.status).toBe(400);
    expect(refused.attest.body.problems).toEqual([
      {
        path: "tee-evidence.additional_evidence.sampledevice",
        message: "device sampledevice is not in attestation.additionalDevices (nvidia)",
      },
    ]);
  });

  it("refuses Trustee's az-snp-vtpm tee with a clear TEE_UNSUPPORTED", async () => {
    const http = new TrusteeHttp(net.kbsUrl, net.ca);
    const r = await http.send("POST", "/kbs/v0/auth", { version: "0.4.0", tee: "az-snp-vtpm", "extra-params": "" });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      code: "TEE_UNSUPPORTED",
      detail:
        "az-snp-vtpm (Azure CVM: SNP report binding a vTPM, evidence is a TPM quote) is not supported; use tee snp with the SNP report itself",
    });
  });
});
