import { describe, expect, it } from "vitest";
import {
  decodeInteger,
  decodeOid,
  decodeTime,
  encodeInteger,
  encodeOid,
  encodeTime,
  parseCertificates,
  readOne,
  TAG,
} from "../../core/index.js";
import { vector } from "../helpers/snp-vectors.js";

describe("DER reader and writer", () => {
  it.each([
    ["1.3.6.1.4.1.3704.1.3.8", "060a2b060104019c78010308"],
    ["1.2.840.113549.1.1.10", "06092a864886f70d01010a"],
    ["2.16.840.1.101.3.4.2.2", "0609608648016503040202"],
  ])("OID %s <-> %s", (dotted, hex) => {
    expect(encodeOid(dotted).toString("hex")).toBe(hex);
    expect(decodeOid(readOne(Buffer.from(hex, "hex")))).toBe(dotted);
  });

  it.each([
    [0, "020100"],
    [127, "02017f"],
    [128, "02020080"],
    [255, "020200ff"],
    [65537, "0203010001"],
  ])("INTEGER %s <-> %s", (n, hex) => {
    expect(encodeInteger(n).toString("hex")).toBe(hex);
    expect(decodeInteger(readOne(Buffer.from(hex, "hex")))).toBe(BigInt(n));
  });

  it.each([
    ["indefinite length", "3080"],
    ["non-minimal long length", "30810100"],
    ["length past the end", "3005020100"],
    ["multi-byte tag", "1f0100"],
    ["truncated header", "30"],
    ["non-minimal INTEGER", "02020001"],
  ])("refuses %s with DER_MALFORMED", (_name, hex) => {
    const b = Buffer.from(hex, "hex");
    expect(() => {
      const t = readOne(b);
      if (t.tag === TAG.integer) decodeInteger(t);
    }).toThrow(expect.objectContaining({ name: "CoreError", code: "DER_MALFORMED" }));
  });

  it("round-trips time values (UTCTime before 2050, GeneralizedTime after)", () => {
    for (const iso of ["2025-02-03T18:21:46.000Z", "2049-12-31T23:59:59.000Z", "2050-01-01T00:00:00.000Z"]) {
      expect(decodeTime(readOne(encodeTime(new Date(iso)))).toISOString()).toBe(iso);
    }
  });

  it("parses the KDS cert_chain bundle as ASK then ARK", () => {
    const certs = parseCertificates(vector("amd-roots/cert_chain-vcek-turin.pem"));
    expect(certs.map((c) => c.subject.find((a) => a.oid === "2.5.4.3")?.value)).toEqual(["SEV-Turin", "ARK-Turin"]);
  });
});
