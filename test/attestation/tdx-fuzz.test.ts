/**
 * Fuzz: 100 000 mutations of the 7 real TDX quotes through the real verifier (shared PCK chain cache). Every
 * mutation that changes what the quote says must be rejected with an AttestationError; none may be accepted and
 * nothing else may be thrown. Mutations that change only unsigned padding after the signature data, or only the
 * PEM framing of the same certificates, say the same thing and are skipped (counted). Deterministic (seeded).
 */
import { describe, expect, it } from "vitest";
import { seededRandom as prng } from "../../runtime/simulators/models/graph.js";
import {
  AttestationError,
  PckChainCache,
  parseTdxQuote,
  readCertificates,
  verifyTdxQuote,
} from "../../runtime/attestation/index.js";
import { QUOTES, tdxVector } from "../helpers/tdx-vectors.js";

const INPUTS = 100_000;
const bases = QUOTES.map((e) => ({ quote: tdxVector(e.file), now: new Date(e.verification.valid_at) }));
const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x7f, 0x80, 0xfe, 0xff];
// Header, body descriptor, signature data length, certification data types and sizes, QE report fields.
const HOT = [0, 2, 4, 8, 12, 28, 48, 0x248, 0x278, 0x27c, 0x2bc, 0x2fc, 0x2fe, 0x302, 0x482, 0x4c2, 0x4e4, 0x4e6];

/** What a quote says: every authenticated byte, and the certificates' DER (PEM framing aside). */
function meaning(q: Buffer): string | undefined {
  try {
    const p = parseTdxQuote(q);
    const certs = readCertificates(p.pckChainPem).map((c) => c.der.toString("hex"));
    return [p.signedBytes, p.signature, p.attestationKey, p.qeReport.raw, p.qeReportSignature, p.qeAuthData]
      .map((b) => b.toString("hex"))
      .concat(certs)
      .join("|");
  } catch {
    return undefined;
  }
}

function mutate(rand: () => number, base: Buffer): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const b = Buffer.from(base);
  switch (int(8)) {
    case 0:
      for (let i = 1 + int(4); i > 0; i--) {
        const p = int(b.length);
        b[p] = (b[p] as number) ^ (1 << int(8));
      }
      return b;
    case 1:
      for (let i = 1 + int(8); i > 0; i--) b[int(b.length)] = int(256);
      return b;
    case 2:
      b[Math.min(b.length - 1, (HOT[int(HOT.length)] as number) + int(4))] = INTERESTING[int(INTERESTING.length)]!;
      return b;
    case 3:
      return b.subarray(0, int(b.length));
    case 4: {
      const s = int(b.length);
      return b.fill(0, s, Math.min(b.length, s + 1 + int(64)));
    }
    case 5: {
      const from = int(b.length - 48);
      const to = int(b.length - 48);
      b.copy(b, to, from, from + 1 + int(48));
      return b;
    }
    case 6: {
      // the signed region only (header and body)
      const p = int(0x278);
      b[p] = (b[p] as number) ^ (1 << int(8));
      return b;
    }
    default:
      b[int(b.length)] = INTERESTING[int(INTERESTING.length)]!;
      return b;
  }
}

describe("fuzz: mutated real TDX quotes", () => {
  it(`rejects ${INPUTS} mutated quotes with an AttestationError, never accepts, never throws anything else`, () => {
    const rand = prng(0x7d5eed);
    const cache = new PckChainCache();
    const meanings = bases.map((b) => meaning(b.quote));
    const codes = new Map<string, number>();
    let [tried, accepted, foreign, same] = [0, 0, 0, 0];
    while (tried < INPUTS) {
      const i = Math.floor(rand() * bases.length);
      const base = bases[i]!;
      const quote = mutate(rand, base.quote);
      tried++;
      try {
        verifyTdxQuote({ quote, now: base.now, cache });
        if (meaning(quote) === meanings[i]) same++;
        else accepted++;
      } catch (e) {
        if (e instanceof AttestationError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        else foreign++;
      }
    }
    expect({ tried, accepted, foreign }).toEqual({ tried: INPUTS, accepted: 0, foreign: 0 });
    // Only padding and PEM framing are unsigned; the mutations reach every stage.
    expect(same).toBeLessThan(INPUTS / 5);
    for (const code of [
      "QUOTE_MALFORMED",
      "QUOTE_SIGNATURE",
      "QE_REPORT_SIGNATURE",
      "QE_REPORT_BINDING",
      "CERTIFICATE_MALFORMED",
      "CHAIN_SIGNATURE",
    ])
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
  }, 300_000);
});
