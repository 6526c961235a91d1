/**
 * TDX collateral from a PCS-compatible server (Intel PCS v4 API, served on loopback from the real vector files with
 * the issuer chains in their URL-encoded headers): the collateral the getter returns verifies Trustee's quote 4 end to
 * end; a missing header, an HTTP error or an unreachable server is COLLATERAL_UNAVAILABLE.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcsTdxGetter, verifyTdxQuote } from "../../runtime/attestation/index.js";
import { tdxVector } from "../helpers/tdx-vectors.js";

const chain = encodeURIComponent(tdxVector("certs/intel-sgx-tcb-signing-chain-2018.pem").toString());
const seen: string[] = [];
let server: Server;
let base: string;
let dropHeader = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    const send = (file: string, header?: string) => {
      if (header && !dropHeader) res.setHeader(header, chain);
      res.end(tdxVector(file));
    };
    if (req.url === "/tdx/certification/v4/tcb?fmspc=50806f000000")
      return send("collateral/tcbinfo-tdx-fmspc-50806f000000-issued-2023-06-18.json", "TCB-Info-Issuer-Chain");
    if (req.url === "/tdx/certification/v4/qe/identity")
      return send("collateral/qe-identity-td_qe-issued-2023-06-08.json", "SGX-Enclave-Identity-Issuer-Chain");
    if (req.url === "/sgx/certification/v4/pckcrl?ca=platform&encoding=der")
      return send("collateral/pck-crl-platform-ca-2023-06-08.der");
    if (req.url === "/root.der") return send("collateral/root-ca-crl-2023-04-03.der");
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("TDX collateral from a PCS", () => {
  it("fetches TCB info, QE identity, both CRLs and the issuer chain; they verify the quote end to end", async () => {
    const collateral = await pcsTdxGetter({ baseUrl: base, rootCrlUrl: `${base}/root.der` }).get(
      "50806F000000",
      "platform",
    );
    expect(seen).toEqual([
      "/tdx/certification/v4/tcb?fmspc=50806f000000",
      "/tdx/certification/v4/qe/identity",
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      "/root.der",
    ]);
    const v = verifyTdxQuote({
      quote: tdxVector("quotes/v4-trustee-tdx_quote_4.bin"),
      now: new Date("2023-07-01T01:00:00Z"),
      collateral,
    });
    expect([v.collateral?.tcb.status, v.collateral?.revocationChecked]).toEqual(["UpToDate", true]);
  });

  it.each([
    [
      "an unknown FMSPC (HTTP 404)",
      () => pcsTdxGetter({ baseUrl: base }).get("00a06d080000", "platform"),
      "collateral.tcbInfo",
    ],
    [
      "a response without its issuer chain header",
      () => {
        dropHeader = true;
        return pcsTdxGetter({ baseUrl: base })
          .get("50806f000000", "platform")
          .finally(() => (dropHeader = false));
      },
      "collateral.tcbInfo",
    ],
    [
      "an unreachable server",
      () => pcsTdxGetter({ baseUrl: "http://127.0.0.1:9" }).get("50806f000000", "platform"),
      "collateral.tcbInfo",
    ],
  ])("%s -> COLLATERAL_UNAVAILABLE", async (_, call, path) => {
    await expect(call()).rejects.toMatchObject({ code: "COLLATERAL_UNAVAILABLE", path });
  });
});
