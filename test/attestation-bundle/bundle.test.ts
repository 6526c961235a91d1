import { describe, expect, it } from "vitest";
import {
  bundleReportData,
  formatAttestationBundle,
  parseAttestationBundle,
  parseBundleList,
  type AttestationBundleJson,
} from "../../runtime/attestation-bundle/index.js";
import { RFC9458 } from "../ohttp/ohttp-vectors.js";

const keyConfig = Buffer.from(RFC9458.keyConfig, "hex");
const notBefore = new Date("2025-12-01T10:00:00Z");
const notAfter = new Date("2025-12-01T11:00:00Z");
const nonce = Uint8Array.from({ length: 32 }, (_, i) => i);

describe("bundleReportData (binding v1)", () => {
  // Known answers from Python's hashlib (independent of this code):
  //   hashlib.sha512(b"confidential-inference attestation-bundle v1" + b"\0" + struct.pack(">H", len(kc)) + kc
  //                  + struct.pack(">QQ", 1764583200, 1764586800) + bytes([len(nonce)]) + nonce).hexdigest()
  // with kc = the RFC 9458 appendix A key configuration.
  it.each([
    [
      "without a nonce",
      undefined,
      "ed56affa16f963934ebd06eb9700a074b6f239a4dd07156d42dfca91327a97014a0e337b6a9ad1c8075f3da099a699e647209febfc4ef5b348304c2d84f54f8d",
    ],
    [
      "with a 32-byte nonce",
      nonce,
      "c04142a3631769b857b85b73e5b6577148e83f92863364bceba1dec8a5bd3ccf254df8a810db74967469e899e5d01910e3628163fd4c943cb8ae02d28eb211f4",
    ],
  ])("%s", (_name, n, expected) => {
    expect(bundleReportData({ keyConfig, notBefore, notAfter, ...(n ? { nonce: n } : {}) }).toString("hex")).toBe(
      expected,
    );
  });

  it("changes with each bound field", () => {
    const base = bundleReportData({ keyConfig, notBefore, notAfter }).toString("hex");
    const other = Uint8Array.from(keyConfig);
    other[5]! ^= 1;
    expect(
      [
        bundleReportData({ keyConfig: other, notBefore, notAfter }),
        bundleReportData({ keyConfig, notBefore: new Date(notBefore.getTime() - 1000), notAfter }),
        bundleReportData({ keyConfig, notBefore, notAfter: new Date(notAfter.getTime() + 1000) }),
        bundleReportData({ keyConfig, notBefore, notAfter, nonce: nonce.subarray(0, 16) }),
      ].map((b) => b.toString("hex") === base),
    ).toEqual([false, false, false, false]);
  });

  it.each([
    ["a 15-byte nonce", { nonce: new Uint8Array(15) }, "binding: the nonce must be 16..64 bytes"],
    ["a 65-byte nonce", { nonce: new Uint8Array(65) }, "binding: the nonce must be 16..64 bytes"],
    [
      "fractional seconds",
      { notAfter: new Date(notAfter.getTime() + 1) },
      "binding: notAfter must be a whole number of seconds after the epoch",
    ],
    [
      "an empty key configuration",
      { keyConfig: new Uint8Array(0) },
      "binding: the key configuration must be 1..65535 bytes",
    ],
  ])("refuses %s (TypeError)", (_name, change, message) => {
    expect(() => bundleReportData({ keyConfig, notBefore, notAfter, ...change })).toThrow(new TypeError(message));
  });
});

const report = Buffer.alloc(1184, 7);
const good = (): AttestationBundleJson =>
  formatAttestationBundle({
    keyConfig,
    notBefore,
    notAfter,
    nonce,
    report,
    certTable: Buffer.from("table"),
    manifest: "eyJhbGciOiJFUzM4NCJ9.eyJ4IjoxfQ.c2ln",
    launch: { release: "2026.11.0", launchShape: "runtime-small" },
  });

describe("attestation bundle schema", () => {
  it("formats and parses back every field", () => {
    const json = good();
    expect(json).toEqual({
      version: 1,
      tee: "sev-snp",
      keyConfig: keyConfig.toString("base64"),
      notBefore: "2025-12-01T10:00:00Z",
      notAfter: "2025-12-01T11:00:00Z",
      nonce: Buffer.from(nonce).toString("hex"),
      evidence: { report: report.toString("base64"), certTable: Buffer.from("table").toString("base64") },
      manifest: "eyJhbGciOiJFUzM4NCJ9.eyJ4IjoxfQ.c2ln",
      launch: { release: "2026.11.0", launchShape: "runtime-small" },
    });
    const b = parseAttestationBundle(JSON.parse(JSON.stringify(json)));
    expect([
      Buffer.from(b.keyConfigBytes).toString("hex"),
      b.keyConfig.keyId,
      b.notBefore.toISOString(),
      b.notAfter.toISOString(),
      Buffer.from(b.nonce!).toString("hex"),
      Buffer.from(b.evidence.report).equals(report),
      Buffer.from(b.evidence.certTable!).toString(),
      b.manifest,
      b.launch,
    ]).toEqual([
      RFC9458.keyConfig,
      1,
      "2025-12-01T10:00:00.000Z",
      "2025-12-01T11:00:00.000Z",
      Buffer.from(nonce).toString("hex"),
      true,
      "table",
      "eyJhbGciOiJFUzM4NCJ9.eyJ4IjoxfQ.c2ln",
      { release: "2026.11.0", launchShape: "runtime-small" },
    ]);
  });

  it.each<[string, (j: any) => void, [string, string][]]>([
    ["an unknown key", (j) => (j.extra = 1), [["bundle.extra", "unknown key"]]],
    ["version 2", (j) => (j.version = 2), [["bundle.version", "Invalid input: expected 1"]]],
    [
      "unpadded base64",
      (j) => (j.evidence.certTable = "dGFibGU"),
      [["bundle.evidence.certTable", "certTable: standard base64 with padding"]],
    ],
    [
      "a short report",
      (j) => (j.evidence.report = Buffer.alloc(1183).toString("base64")),
      [["bundle.evidence.report", "1183 bytes, an SNP report has 1184"]],
    ],
    [
      "a key configuration that does not decode",
      (j) => (j.keyConfig = Buffer.from("0100", "hex").toString("base64")),
      [["bundle.keyConfig", "not an RFC 9458 key configuration (KEY_CONFIG_INVALID)"]],
    ],
    [
      "milliseconds in a time",
      (j) => (j.notAfter = "2025-12-01T11:00:00.000Z"),
      [["bundle.notAfter", "a UTC time in whole seconds (2026-12-01T10:00:00Z)"]],
    ],
    [
      "notAfter before notBefore",
      (j) => (j.notAfter = "2025-12-01T09:00:00Z"),
      [["bundle.notAfter", "must be after notBefore"]],
    ],
    ["an odd-length nonce", (j) => (j.nonce = "abc"), [["bundle.nonce", "16..64 bytes in lower-case hex"]]],
    ["a manifest that is not a compact JWS", (j) => (j.manifest = "a.b"), [["bundle.manifest", "a compact JWS"]]],
    [
      "a missing report",
      (j) => delete j.evidence.report,
      [["bundle.evidence.report", "Invalid input: expected string, received undefined"]],
    ],
  ])("refuses %s: BUNDLE_MALFORMED naming the field", (_name, mutate, problems) => {
    const j = structuredClone(good()) as any;
    mutate(j);
    let err: any;
    try {
      parseAttestationBundle(j);
    } catch (e) {
      err = e;
    }
    expect([err?.code, err?.problems.map((p: any) => [p.path, p.message])]).toEqual(["BUNDLE_MALFORMED", problems]);
  });

  it("parses a bundle list without parsing its bundles; refuses a bad runtime id", () => {
    expect(parseBundleList({ model: "sentiment", runtimes: [{ id: "0123456789abcdef", bundle: { any: 1 } }] })).toEqual(
      {
        model: "sentiment",
        runtimes: [{ id: "0123456789abcdef", bundle: { any: 1 } }],
      },
    );
    let err: any;
    try {
      parseBundleList({ model: "m", runtimes: [{ id: "xyz", bundle: {} }] });
    } catch (e) {
      err = e;
    }
    expect([err?.code, err?.problems]).toEqual([
      "BUNDLE_MALFORMED",
      [{ path: "list.runtimes[0].id", message: "16 lower-case hex" }],
    ]);
  });
});
