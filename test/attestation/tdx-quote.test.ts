/**
 * Intel TDX quotes: the 7 real quotes (v4 and v5, TD 1.0 and 1.5, trailing padding) parse to exactly the facts an
 * independent parser derived and verify at their `valid_at`; tampered variants are refused with exact codes.
 */
import { describe, expect, it } from "vitest";
import { decodeTdAttributes, parseTdxQuote, PckChainCache, verifyTdxQuote } from "../../runtime/attestation/index.js";
import { QUOTES, tdxVector } from "../helpers/tdx-vectors.js";

const hex = (b: Buffer) => b.toString("hex");

describe("TDX quotes: parse (abi)", () => {
  it.each(QUOTES.map((e) => [e.file, e] as const))("%s: every field equals the manifest's facts", (_, e) => {
    const q = parseTdxQuote(tdxVector(e.file));
    const f = e.facts;
    expect([q.version, hex(q.qeVendorId), hex(q.userData)]).toEqual([
      f.header.version,
      f.header.qe_vendor_id,
      f.header.user_data,
    ]);
    expect(q.bodyType).toBe(f.body_type === 3 ? "td15" : "td10");
    const b = q.body;
    expect({
      tee_tcb_svn: hex(b.teeTcbSvn),
      mr_seam: hex(b.mrSeam),
      mr_signer_seam: hex(b.mrSignerSeam),
      seam_attributes: hex(b.seamAttributes),
      td_attributes: hex(b.tdAttributes),
      xfam: hex(b.xfam),
      mr_td: hex(b.mrTd),
      mr_config_id: hex(b.mrConfigId),
      mr_owner: hex(b.mrOwner),
      mr_owner_config: hex(b.mrOwnerConfig),
      rtmr0: hex(b.rtmrs[0]),
      rtmr1: hex(b.rtmrs[1]),
      rtmr2: hex(b.rtmrs[2]),
      rtmr3: hex(b.rtmrs[3]),
      report_data: hex(b.reportData),
      td_attributes_decoded: (({ septVeDisable, ...rest }) => ({ ...rest, sept_ve_disable: septVeDisable }))(
        decodeTdAttributes(b.tdAttributes),
      ),
    }).toEqual(
      Object.fromEntries(Object.entries(f.body).filter(([k]) => !["tee_tcb_svn_2", "mr_service_td"].includes(k))),
    );
    if (q.bodyType === "td15")
      expect([hex(b.teeTcbSvn2!), hex(b.mrServiceTd!)]).toEqual([f.body["tee_tcb_svn_2"], f.body["mr_service_td"]]);
    expect([q.signedBytes.length, q.extraBytes, hex(q.signature), hex(q.attestationKey)]).toEqual([
      f.signed_region_len,
      f.trailing_bytes_after_signature_data,
      f.quote_signature_rs_be,
      f.attestation_key_xy,
    ]);
    expect([hex(q.qeReport.mrSigner), q.qeReport.isvProdId, q.qeReport.isvSvn, hex(q.qeReport.reportData)]).toEqual([
      f.qe_report.mr_signer,
      f.qe_report.isv_prod_id,
      f.qe_report.isv_svn,
      f.qe_report.report_data,
    ]);
    expect(hex(q.qeAuthData)).toBe(f.qe_auth_data);
    expect(q.pckChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
  });
});

describe("TDX quotes: verify (signatures, binding, PCK chain to the pinned Intel root)", () => {
  it.each(QUOTES.map((e) => [e.file, e] as const))(
    "%s verifies at its valid_at with the manifest's PCK facts",
    (_, e) => {
      const v = verifyTdxQuote({ quote: tdxVector(e.file), now: new Date(e.verification.valid_at) });
      const x = e.verification.pck_extensions;
      expect({
        ppid: hex(v.pck.ppid),
        pcesvn: v.pck.pceSvn,
        cpusvn: hex(v.pck.cpuSvn),
        sgx_tcb_comp_svn: v.pck.sgxTcbComponents,
        pceid: hex(v.pck.pceId),
        fmspc: hex(v.pck.fmspc),
        sgx_type: v.pck.sgxType,
      }).toEqual({
        ppid: x.ppid,
        pcesvn: x.pcesvn,
        cpusvn: x.cpusvn,
        sgx_tcb_comp_svn: x.sgx_tcb_comp_svn,
        pceid: x.pceid,
        fmspc: x.fmspc.toLowerCase(),
        sgx_type: x.sgx_type,
      });
      expect(v.pckCa).toBe("platform");
      const [from, to] = e.verification.pck_chain.common_validity_window;
      expect(v.chain.leaf.notBefore.getTime()).toBeLessThanOrEqual(new Date(from).getTime());
      expect(v.chain.leaf.notAfter.getTime()).toBeGreaterThanOrEqual(new Date(to).getTime());
    },
  );
});

const SPR = "quotes/v4-spr-e4-go-tdx-guest-plus-39-trailing-bytes.bin";
const base = tdxVector(SPR);
const AT = new Date("2023-07-01T01:00:00Z");
const set = (offset: number, value: number) => {
  const b = Buffer.from(base);
  b[offset] = value;
  return b;
};
const flip = (offset: number) => set(offset, (base[offset] as number) ^ 1);
// v4 offsets: header 0x00, body 0x30, signature data length 0x278, signature 0x27C, attestation key 0x2BC,
// QE report 0x302, QE report signature 0x482, QE auth data 0x4C4, PCK chain PEM 0x4EA.

describe("TDX quotes: tampered variants are refused with exact codes", () => {
  it.each([
    ["version byte := 3 (go-tdx-guest 'Version byte Changed')", set(0x00, 3), AT, "QUOTE_MALFORMED"],
    ["TEE type := 0 (an SGX quote)", set(0x04, 0), AT, "QUOTE_MALFORMED"],
    ["signature data length changed (go-tdx-guest)", set(0x278, 0x10), AT, "QUOTE_MALFORMED"],
    ["truncated to 1000 bytes", base.subarray(0, 1000), AT, "QUOTE_MALFORMED"],
    [
      "a PEM boundary byte of the chain (go-tdx-guest 'Certificate chain byte Changed')",
      set(0x1343, 0x32),
      AT,
      "CERTIFICATE_PROFILE",
    ],
    ["a root certificate byte (go-tdx-guest)", set(0x1329, 0x32), AT, "UNTRUSTED_ROOT"],
    ["an intermediate certificate byte (go-tdx-guest)", set(0xf5f, 0x32), AT, "CHAIN_SIGNATURE"],
    ["a PCK certificate byte (go-tdx-guest)", set(0xb77, 0x32), AT, "CHAIN_SIGNATURE"],
    ["header user data (go-tdx-guest 'Header Byte Changed')", set(0x1e, 0x32), AT, "QUOTE_SIGNATURE"],
    ["TD body byte (go-tdx-guest 'TD Quote Body Changed')", set(0x3c, 0x32), AT, "QUOTE_SIGNATURE"],
    ["MRTD bit", flip(0x30 + 136), AT, "QUOTE_SIGNATURE"],
    ["quote signature bit", flip(0x27c + 40), AT, "QUOTE_SIGNATURE"],
    ["QE report MRENCLAVE bit", flip(0x302 + 64), AT, "QE_REPORT_SIGNATURE"],
    ["QE report signature bit", flip(0x482 + 5), AT, "QE_REPORT_SIGNATURE"],
    ["QE auth data bit", flip(0x4c4), AT, "QE_REPORT_BINDING"],
    ["attestation key bit", flip(0x2bc + 3), AT, "QE_REPORT_BINDING"],
    [
      "after the PCK certificate's notAfter (go-tdx-guest: 2053-07-01)",
      base,
      new Date("2053-07-01"),
      "CERTIFICATE_EXPIRED",
    ],
    ["before the PCK certificate's notBefore", base, new Date("2020-01-01"), "CERTIFICATE_NOT_YET_VALID"],
  ] as const)("%s -> %s", (_, quote, now, code) => {
    expect(() => verifyTdxQuote({ quote, now })).toThrow(expect.objectContaining({ code }));
  });

  it("refuses a chain to a root that is not pinned, and accepts the padding after the signature data", () => {
    expect(() => verifyTdxQuote({ quote: base, now: AT, roots: ["00".repeat(32)] })).toThrow(
      expect.objectContaining({ code: "UNTRUSTED_ROOT" }),
    );
    const padded = Buffer.concat([base, Buffer.alloc(4096)]);
    expect(verifyTdxQuote({ quote: padded, now: AT }).quote.extraBytes).toBe(39 + 4096);
  });

  it("a cached chain gives the same verdicts (time is checked on every call)", () => {
    const cache = new PckChainCache();
    expect(verifyTdxQuote({ quote: base, now: AT, cache }).pck.pceSvn).toBe(11);
    expect(() => verifyTdxQuote({ quote: base, now: new Date("2053-07-01"), cache })).toThrow(
      expect.objectContaining({ code: "CERTIFICATE_EXPIRED" }),
    );
    expect(() => verifyTdxQuote({ quote: set(0x3c, 0x32), now: AT, cache })).toThrow(
      expect.objectContaining({ code: "QUOTE_SIGNATURE" }),
    );
  });
});
