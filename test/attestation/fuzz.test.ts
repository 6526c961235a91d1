/**
 * Fuzz: 100 000+ mutations of the 19 real reports (and some of their VCEKs) through the real
 * verifier with a shared chain cache. Every input must be rejected with an AttestationError; no
 * other exception and no acceptance. Deterministic (seeded PRNG), so a failure reproduces.
 */
import { describe, expect, it } from "vitest";
import { seededRandom as prng } from "../../runtime/simulators/models/graph.js";
import { OFFSET, REPORT_SIZE } from "../../runtime/attestation/abi/report.js";
import { AttestationError } from "../../runtime/attestation/errors.js";
import { ChainCache } from "../../runtime/attestation/verify/chain.js";
import { amdTrustAnchors } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { VERIFIABLE, vector } from "../helpers/snp-vectors.js";

const INPUTS = 100_000;

const bases = VERIFIABLE.map((e) => ({
  report: vector(e.file),
  vek: vector(e.verification!.signing_key_cert!),
  now: new Date(e.verification!.valid_at!),
}));
const FIELD_OFFSETS = Object.values(OFFSET);
const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x7f, 0x80, 0xfe, 0xff];

function mutate(rand: () => number, base: Buffer, other: Buffer): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const b = Buffer.from(base);
  switch (int(10)) {
    case 0: // flip 1-4 bits
      for (let i = 1 + int(4); i > 0; i--) {
        const p = int(b.length);
        b[p] = (b[p] as number) ^ (1 << int(8));
      }
      return b;
    case 1: // 1-8 random bytes
      for (let i = 1 + int(8); i > 0; i--) b[int(b.length)] = int(256);
      return b;
    case 2: // an interesting value at or near a field start
      b[Math.min(b.length - 1, (FIELD_OFFSETS[int(FIELD_OFFSETS.length)] as number) + int(4))] = INTERESTING[
        int(INTERESTING.length)
      ] as number;
      return b;
    case 3: // truncate
      return b.subarray(0, int(b.length));
    case 4: // extend
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]);
    case 5: {
      // splice: A before the cut, B after; the cut lies between their first and last difference
      let d0 = 0;
      while (d0 < REPORT_SIZE && base[d0] === other[d0]) d0++;
      let d1 = REPORT_SIZE - 1;
      while (d1 > d0 && base[d1] === other[d1]) d1--;
      if (d0 >= d1) return mutate(rand, base, base);
      const cut = d0 + 1 + int(d1 - d0);
      return Buffer.concat([b.subarray(0, cut), other.subarray(cut)]);
    }
    case 6: {
      // zero a range
      const s = int(b.length);
      return b.fill(0, s, Math.min(b.length, s + 1 + int(64)));
    }
    case 7: {
      // random bytes over a range
      const s = int(b.length);
      for (let i = s; i < Math.min(b.length, s + 1 + int(32)); i++) b[i] = int(256);
      return b;
    }
    case 8: {
      // copy a range inside the report
      const from = int(b.length - 48);
      const to = int(b.length - 48);
      b.copy(b, to, from, from + 1 + int(48));
      return b;
    }
    default: // one interesting byte anywhere
      b[int(b.length)] = INTERESTING[int(INTERESTING.length)] as number;
      return b;
  }
}

describe("fuzz: mutated real reports", () => {
  it(`rejects ${INPUTS} mutated inputs with an AttestationError, never accepts, never throws anything else`, async () => {
    const rand = prng(0x5eed5eed);
    const cache = new ChainCache();
    const anchors = amdTrustAnchors();
    const codes = new Map<string, number>();
    let accepted = 0;
    let foreign = 0;
    let tried = 0;
    let skipped = 0;
    while (tried < INPUTS) {
      const base = bases[Math.floor(rand() * bases.length)]!;
      const other = bases[Math.floor(rand() * bases.length)]!;
      const mutateVek = rand() < 0.02;
      const report = mutateVek ? base.report : mutate(rand, base.report, other.report);
      const vek = mutateVek ? mutate(rand, base.vek, other.vek) : base.vek;
      // A splice can reproduce another genuine report of the same chip (same VCEK): not a forgery.
      if (vek.equals(base.vek) && bases.some((b) => b.report.equals(report))) {
        skipped++;
        continue;
      }
      tried++;
      try {
        await verifySnpEvidence({ report, collateral: { vek }, anchors, now: base.now, cache });
        accepted++;
      } catch (e) {
        if (e instanceof AttestationError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        else foreign++;
      }
    }
    expect({ tried, accepted, foreign }).toEqual({ tried: INPUTS, accepted: 0, foreign: 0 });
    // The mutations reach every stage: structure, product, binding and signature.
    for (const code of [
      "REPORT_SIZE",
      "RESERVED_NONZERO",
      "REPORT_SIGNATURE",
      "TCB_MISMATCH",
      "CHIP_ID_MISMATCH",
      "CERTIFICATE_MALFORMED",
    ])
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    if (process.env.FUZZ_STATS) console.log(JSON.stringify({ skipped, codes: Object.fromEntries([...codes].sort()) }));
    // No-op mutations (a zero written over a zero) are skipped, not counted; they stay a minority.
    expect(skipped).toBeLessThan(INPUTS / 5);
  }, 600_000);
});
