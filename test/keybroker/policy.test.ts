/** Pure decisions: release per drift class, chip allowlist, resource rules, epochs and tokens (frozen time). */
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { GoldenManifest } from "../../measurements/manifest/types.js";
import { jwkFromPoint, pointFromJwk } from "../../core/index.js";
import { decideAttestation, decideResource, globMatch } from "../../runtime/keybroker/release/release-rule.js";
import { activeSetChanged, epochStanding, observeNode } from "../../runtime/keybroker/session/epochs.js";
import { issueToken, verifyToken } from "../../runtime/keybroker/session/tokens.js";
import type { EpochRecord } from "../../runtime/keybroker/state/state.js";
import { fakeClaims, goldenManifest, measurementOf } from "../helpers/keybroker.js";

const A = measurementOf("active");
const P = measurementOf("pending");
const R = measurementOf("retired");
const FLOOR = { bootloader: 9, tee: 0, snp: 23, microcode: 72 };
const manifests: GoldenManifest[] = [
  goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": A }, tcbFloors: { Genoa: FLOOR } }),
  goldenManifest({ release: "r2", status: "pending", shapes: { "inference-a": P } }),
  goldenManifest({ release: "r0", status: "retired", shapes: { "inference-a": R } }),
];

describe("decideAttestation", () => {
  const verdict = (
    accepted: boolean,
    driftClass: string,
    claims = fakeClaims(A),
    failures: { code: string; path: string; message: string }[] = [],
  ) => ({ accepted, driftClass, reason: "r", failures, claims }) as never;
  it.each([
    ["ok", verdict(true, "ok"), true, undefined],
    ["platform-updated", verdict(true, "platform-updated"), true, undefined],
    [
      "pending-release",
      verdict(false, "pending-release", fakeClaims(P), [
        { code: "MEASUREMENT_NOT_ALLOWED", path: "report.measurement", message: "m" },
      ]),
      false,
      "ATTESTATION_DENIED",
    ],
    [
      "retired-release",
      verdict(false, "retired-release", fakeClaims(R), [
        { code: "MEASUREMENT_NOT_ALLOWED", path: "report.measurement", message: "m" },
      ]),
      false,
      "ATTESTATION_DENIED",
    ],
    [
      "tcb-below-floor",
      verdict(false, "tcb-below-floor", fakeClaims(A), [
        { code: "TCB_BELOW_FLOOR", path: "report.reportedTcb.snp", message: "m" },
      ]),
      false,
      "ATTESTATION_DENIED",
    ],
    [
      "unknown-measurement",
      verdict(false, "unknown-measurement", fakeClaims(measurementOf("x"))),
      false,
      "ATTESTATION_DENIED",
    ],
    [
      "invalid-evidence",
      {
        accepted: false,
        driftClass: "invalid-evidence",
        reason: "r",
        failures: [{ code: "REPORT_SIGNATURE", path: "report.signature", message: "bad" }],
      } as never,
      false,
      "EVIDENCE_REJECTED",
    ],
    [
      "ok but a policy failure (debug)",
      verdict(false, "ok", fakeClaims(A), [{ code: "DEBUG_ALLOWED", path: "report.policy.debug", message: "m" }]),
      false,
      "ATTESTATION_DENIED",
    ],
    [
      "accepted yet a non-releasable class",
      verdict(true, "pending-release", fakeClaims(P)),
      false,
      "ATTESTATION_DENIED",
    ],
  ])("%s", (_n, v, granted, code) => {
    const d = decideAttestation(v, manifests);
    expect(d.granted).toBe(granted);
    if (d.granted) expect([d.release, d.launchShape]).toEqual(["r1", "inference-a"]);
    else expect(d.code).toBe(code);
  });

  it("names every failure with its path in the reason", () => {
    const d = decideAttestation(
      verdict(false, "ok", fakeClaims(A), [
        { code: "DEBUG_ALLOWED", path: "report.policy.debug", message: "m" },
        { code: "VMPL", path: "report.vmpl", message: "m" },
      ]),
      manifests,
    );
    expect(d).toMatchObject({ granted: false, reason: "DEBUG_ALLOWED at report.policy.debug; VMPL at report.vmpl" });
  });
});

describe("resource rules", () => {
  const rules = [
    { resource: "runtime/*/*" },
    { resource: "*/model/*", launchShapes: ["inference*"] },
    { resource: "secrets/db/*", releases: ["r1"] },
  ];
  it.each([
    ["runtime/certificate/tls", "batch", "r1", undefined],
    ["default/model/m", "inference-a", "r1", undefined],
    ["default/model/m", "batch", "r1", "launch shape batch may not read default/model/m"],
    ["secrets/db/pw", "batch", "r1", undefined],
    ["secrets/db/pw", "batch", "r2", "release r2 may not read secrets/db/pw"],
    ["other/x/y", "inference-a", "r1", "no resource rule allows other/x/y"],
  ])("%s for %s of %s", (resource, launchShape, release, expected) => {
    expect(decideResource(rules, resource, { release, launchShape })).toBe(expected);
  });
  it("globs: * stays within a path segment", () => {
    expect([
      globMatch("*/model/*", "a/model/b"),
      globMatch("*/model/*", "a/b/model/c"),
      globMatch("a.b", "axb"),
      globMatch("inference*", "inference-x/y", true),
    ]).toEqual([true, false, false, true]);
  });
});

describe("epochs and nodes", () => {
  const epochs: EpochRecord[] = [
    { epoch: 1, startedAt: "2026-11-01T10:00:00.000Z", reason: "initial" },
    { epoch: 2, startedAt: "2026-11-01T11:00:00.000Z", reason: "manifest-changed" },
  ];
  it.each([
    [2, "2026-11-01T11:00:00.000Z", "current"],
    [1, "2026-11-01T11:04:59.000Z", "grace"],
    [1, "2026-11-01T11:05:00.000Z", "superseded"],
    [3, "2026-11-01T11:00:00.000Z", "unknown"],
  ] as const)("epoch %d at %s is %s (grace 300 s)", (epoch, at, standing) => {
    expect(epochStanding(epochs, epoch, new Date(at), 300)).toBe(standing);
  });
  it("observes new chips, same TCBs and changed TCBs", () => {
    const tcb = { bootloader: 1, tee: 0, snp: 2, microcode: 3 };
    const nodes = { c1: { product: "Genoa", tcb, firstSeen: "", lastSeen: "" } };
    expect([
      observeNode(nodes, "c2", tcb),
      observeNode(nodes, "c1", { ...tcb }),
      observeNode(nodes, "c1", { ...tcb, snp: 3 }),
    ]).toEqual(["new-chip", "same", "tcb-changed"]);
    expect([activeSetChanged(["a", "b"], ["b", "a"]), activeSetChanged(["a"], ["a", "b"])]).toEqual([false, true]);
  });
});

describe("tokens", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const jwk = jwkFromPoint(pointFromJwk(publicKey.export({ format: "jwk" }), "k"));
  const signer = {
    kid: "ci-token-signing-v1",
    sign: (input: Buffer) => sign("sha384", input, { key: privateKey, dsaEncoding: "ieee-p1363" }),
  };
  const epochs: EpochRecord[] = [{ epoch: 1, startedAt: "2026-11-01T10:00:00.000Z", reason: "initial" }];
  const t0 = new Date("2026-11-01T10:10:00.000Z");
  const claims = {
    iss: "https://kb",
    "tee-pubkey": { ...jwk, alg: "ECDH-ES+A256KW" },
    tee: "snp",
    epoch: 1,
    "drift-class": "ok" as const,
    measurement: A,
    "chip-id": "ab".repeat(64),
    tcb: FLOOR,
    release: "r1",
    "launch-shape": "inference-a",
  };
  const opts = (now: Date, more: Partial<Parameters<typeof verifyToken>[1]> = {}) => ({
    keyFor: (kid: string) => (kid === signer.kid ? jwk : undefined),
    issuer: "https://kb",
    now,
    epochs,
    graceSeconds: 60,
    ...more,
  });

  it("issues ES384 JWTs with iat/exp/jti and verifies them", () => {
    const { token, claims: c } = issueToken(claims, t0, 300, signer);
    expect(JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString())).toEqual({
      alg: "ES384",
      typ: "JWT",
      kid: "ci-token-signing-v1",
    });
    expect([c.iat, c.exp]).toEqual([1793527800, 1793528100]);
    expect(verifyToken(token, opts(t0))).toEqual(c);
  });
  it.each([
    ["expired", (t: string) => t, new Date("2026-11-01T10:15:00.000Z"), {}, "TOKEN_EXPIRED"],
    [
      "superseded",
      (t: string) => t,
      t0,
      { epochs: [...epochs, { epoch: 2, startedAt: "2026-11-01T10:08:00.000Z", reason: "on-demand" as const }] },
      "TOKEN_SUPERSEDED",
    ],
    ["unknown kid", (t: string) => t, t0, { keyFor: () => undefined }, "TOKEN_INVALID"],
    ["wrong issuer", (t: string) => t, t0, { issuer: "https://other" }, "TOKEN_INVALID"],
    ["bad signature", (t: string) => `${t.slice(0, -4)}AAAA`, t0, {}, "TOKEN_INVALID"],
    ["not a JWS", () => "abc", t0, {}, "TOKEN_INVALID"],
    [
      "alg none",
      (t: string) =>
        `${Buffer.from('{"alg":"none","kid":"ci-token-signing-v1"}').toString("base64url")}.${t.split(".")[1]}.AA`,
      t0,
      {},
      "TOKEN_INVALID",
    ],
  ])("refuses a token that is %s", (_n, mutate, now, more, code) => {
    const { token } = issueToken(claims, t0, 300, signer);
    expect(() => verifyToken(mutate(token), opts(now, more))).toThrow(expect.objectContaining({ code }));
  });
});
