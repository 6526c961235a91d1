/**
 * Canonical JSON (RFC 8785, JCS): known answers from the RFC's own text, the repository's manifest
 * fixtures and the KBS binding vectors, asserted on every implementation the project has.
 *
 * The RFC examples are written here from RFC 8785: section 3.2.2 (the sample object and its
 * canonical form), section 3.2.3 (the property-sorting sample) and Appendix B (number serialization
 * samples, IEEE 754 bit pattern -> JSON text). The manifest known answers were computed with Python
 * (`json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()`), an
 * independent serialiser that agrees with JCS on these ASCII-keyed, integer-only documents.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../core/index.js";
import { devManifest } from "../helpers/golden.js";

const ROOT = join(__dirname, "../..");

/**
 * Every canonical JSON implementation in the tree. Until the merge this list also held the KBS
 * binding's copy (`runtime/kbs-protocol/binding.ts`), which gave the same bytes on every vector
 * below except the numbers that are not safe integers, which it refused.
 */
const IMPLEMENTATIONS = [["core/canonical-json", canonicalJson]] as const;

const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");

describe.each(IMPLEMENTATIONS)("canonical JSON: %s", (_name, canonicalJson) => {
  it("RFC 8785 section 3.2.3: sorts properties by UTF-16 code units", () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("RFC 8785 section 3.2.2: escapes strings as ECMAScript JSON.stringify does", () => {
    const input = JSON.parse(
      '{"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it("the KBS binding runtime data (Trustee KBS 0.4.0): known bytes", () => {
    const jwk = { kty: "EC", crv: "P-384", alg: "ECDH-ES+A256KW", x: "x".repeat(64), y: "y".repeat(64) };
    expect(
      canonicalJson({ "tee-pubkey": { ...jwk, extra: undefined }, nonce: "bm9uY2U=", "additional-evidence": "" }),
    ).toBe(
      `{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-384","kty":"EC","x":"${"x".repeat(64)}","y":"${"y".repeat(64)}"}}`,
    );
    expect(canonicalJson({ b: [1, "é\n"], a: null, A: true, "\u00e9": {} })).toBe(
      '{"A":true,"a":null,"b":[1,"é\\n"],"é":{}}',
    );
  });

  it.each([
    [{ b: 1, a: [true, null, "x"] }, '{"a":[true,null,"x"],"b":1}'],
    [{ "10": 1, "9": 2, a: 3, B: 4 }, '{"10":1,"9":2,"B":4,"a":3}'],
    [{ s: "line\nbreak\u0001 \u00e9 \u{1f600}" }, '{"s":"line\\nbreak\\u0001 é 😀"}'],
    [{ skip: undefined, keep: 0 }, '{"keep":0}'],
    [{ e: {}, l: [] }, '{"e":{},"l":[]}'],
    [[-0, 0, 9007199254740991, -9007199254740991], "[0,0,9007199254740991,-9007199254740991]"],
  ])("serialises %j", (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it("the dev manifest fixture: the bytes Python's sorted, separator-free dump gives", () => {
    const out = canonicalJson(devManifest());
    expect([Buffer.byteLength(out, "utf8"), sha256(out)]).toEqual([
      1759,
      "35bdeff103679db7860c9920200fa02c4e3e8df476b0b6878eeaf69b9976ef89",
    ]);
  });

  it("the committed dev stack manifest (stacks/golden/dev.json): the bytes Python gives", () => {
    const out = canonicalJson(JSON.parse(readFileSync(join(ROOT, "stacks/golden/dev.json"), "utf8")));
    expect([Buffer.byteLength(out, "utf8"), sha256(out)]).toEqual([
      1551,
      "ff2193ffc04ee196c3519a2cbbef1be870d9f1191e97b4beb032189f3031a6b3",
    ]);
  });

  it.each([
    ["NaN", { n: Number.NaN }, "canonical JSON: $.n is not a finite number"],
    ["Infinity", { n: Number.POSITIVE_INFINITY }, "canonical JSON: $.n is not a finite number"],
    ["a bigint", { n: 1n }, "canonical JSON: $.n has unsupported type bigint"],
    ["a function", { a: [{ f: () => 0 }] }, "canonical JSON: $.a[0].f has unsupported type function"],
    ["a Date", { d: new Date(0) }, "canonical JSON: $.d is not a plain object"],
  ])("refuses %s with a TypeError naming the path", (_what, value, message) => {
    expect(() => canonicalJson(value)).toThrow(new TypeError(message));
  });
});

describe.each(IMPLEMENTATIONS)("canonical JSON numbers: %s", (_name, canonicalJson) => {
  /** RFC 8785 Appendix B: IEEE 754 double (hex) -> canonical JSON number. */
  const APPENDIX_B: readonly (readonly [string, string])[] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];

  it.each(APPENDIX_B)("RFC 8785 Appendix B: %s -> %s", (hex, text) => {
    expect(canonicalJson([Buffer.from(hex, "hex").readDoubleBE(0)])).toBe(`[${text}]`);
  });

  it.each([["7fffffffffffffff"], ["7ff0000000000000"]])("RFC 8785 Appendix B: %s (NaN, Infinity) is refused", (hex) => {
    expect(() => canonicalJson([Buffer.from(hex, "hex").readDoubleBE(0)])).toThrow(
      new TypeError("canonical JSON: $[0] is not a finite number"),
    );
  });

  it("RFC 8785 section 3.2.2: the sample object", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    const out = canonicalJson(input);
    expect(out).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    // RFC 8785 section 3.2.4: the UTF-8 bytes of that canonical form, as the RFC lists them.
    const listing = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
    expect(Buffer.from(out, "utf8").toString("hex")).toBe(listing.replace(/\s+/g, ""));
  });
});
