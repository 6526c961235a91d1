import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  canonicalManifestBytes,
  formatManifest,
  type GoldenManifest,
  parseManifest,
} from "../../../measurements/manifest/index.js";
import { devManifest } from "../../helpers/golden.js";

const minimal: GoldenManifest = {
  status: "active",
  schemaVersion: 1,
  tcbFloors: {},
  launchShapes: {
    a: {
      measurement: "b".repeat(96),
      inputs: {
        vmmType: "QEMU",
        vcpus: 1,
        vcpuSig: "0x800f12",
        policy: "0x30000",
        mode: "snp",
        guestFeatures: "0x1",
        firmware: "fw",
      },
    },
  },
  release: "r1",
  platform: "sev-snp",
  environment: "dev",
  createdAt: "2026-01-01T00:00:00Z",
  artifacts: { fw: { source: 'café "☕"', size: 1, sha256: "a".repeat(64), kind: "firmware" } },
  allowedPolicyBits: "0x30000",
};

describe("canonical serialisation (RFC 8785 JCS)", () => {
  it("produces the known bytes for a minimal manifest (written by hand)", () => {
    const expected =
      `{"allowedPolicyBits":"0x30000","artifacts":{"fw":{"kind":"firmware","sha256":"${"a".repeat(64)}","size":1,"source":"café \\"☕\\""}},` +
      `"createdAt":"2026-01-01T00:00:00Z","environment":"dev","launchShapes":{"a":{"inputs":{"firmware":"fw","guestFeatures":"0x1","mode":"snp",` +
      `"policy":"0x30000","vcpuSig":"0x800f12","vcpus":1,"vmmType":"QEMU"},"measurement":"${"b".repeat(96)}"}},"platform":"sev-snp","release":"r1",` +
      `"schemaVersion":1,"status":"active","tcbFloors":{}}`;
    expect(canonicalJson(minimal)).toBe(expected);
    expect(Buffer.from(canonicalManifestBytes(minimal))).toEqual(Buffer.from(expected, "utf8"));
  });

  it("matches an independent serialiser on the dev manifest", () => {
    // Known answer from Python: json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    const bytes = canonicalManifestBytes(devManifest());
    expect(bytes.length).toBe(1759);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(
      "35bdeff103679db7860c9920200fa02c4e3e8df476b0b6878eeaf69b9976ef89",
    );
  });

  it("does not depend on member insertion order", () => {
    const reordered = JSON.parse(
      JSON.stringify(
        devManifest(),
        Object.keys(devManifest())
          .reverse()
          .concat(
            ...Object.values(devManifest().launchShapes).flatMap((s) => Object.keys(s.inputs)),
            "inputs",
            "measurement",
            "kind",
            "sha256",
            "size",
            "source",
            "bootloader",
            "tee",
            "snp",
            "microcode",
            "fmc",
            ...Object.keys(devManifest().artifacts),
            ...Object.keys(devManifest().launchShapes),
            "Milan",
            "Turin",
          ),
      ),
    );
    expect(Object.keys(reordered)[0]).toBe("allowedPolicyBits");
    expect(canonicalJson(reordered)).toBe(canonicalJson(devManifest()));
  });

  it.each([
    [{ b: 1, a: [true, null, "x"] }, '{"a":[true,null,"x"],"b":1}'],
    [{ "10": 1, "9": 2, a: 3, B: 4 }, '{"10":1,"9":2,"B":4,"a":3}'],
    [{ s: "line\nbreak\u0001 \u00e9 \u{1f600}" }, '{"s":"line\\nbreak\\u0001 é 😀"}'],
    [{ skip: undefined, keep: 0 }, '{"keep":0}'],
    [{ e: {}, l: [] }, '{"e":{},"l":[]}'],
  ])("serialises %j", (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([
    ["a non-finite number", { n: Number.NaN }, "canonical JSON: $.n is not a finite number"],
    ["a bigint", { n: 1n }, "canonical JSON: $.n has unsupported type bigint"],
    ["a class instance", { d: new Date(0) }, "canonical JSON: $.d is not a plain object"],
  ])("refuses %s with a TypeError", (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(new TypeError(message));
  });
});

describe("formatManifest (the committed file form)", () => {
  it("indents by two spaces, sorts members and ends with a newline", () => {
    expect(formatManifest(minimal)).toBe(`{
  "allowedPolicyBits": "0x30000",
  "artifacts": {
    "fw": {
      "kind": "firmware",
      "sha256": "${"a".repeat(64)}",
      "size": 1,
      "source": "café \\"☕\\""
    }
  },
  "createdAt": "2026-01-01T00:00:00Z",
  "environment": "dev",
  "launchShapes": {
    "a": {
      "inputs": {
        "firmware": "fw",
        "guestFeatures": "0x1",
        "mode": "snp",
        "policy": "0x30000",
        "vcpuSig": "0x800f12",
        "vcpus": 1,
        "vmmType": "QEMU"
      },
      "measurement": "${"b".repeat(96)}"
    }
  },
  "platform": "sev-snp",
  "release": "r1",
  "schemaVersion": 1,
  "status": "active",
  "tcbFloors": {}
}
`);
  });

  it("is the form of the committed dev stack manifest (stacks/golden/dev.json), byte for byte", () => {
    const text = readFileSync(join(__dirname, "../../../stacks/golden/dev.json"), "utf8");
    expect(formatManifest(parseManifest(text))).toBe(text);
  });
});
