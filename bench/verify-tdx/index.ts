/**
 * `npm run bench -- verify-tdx`: Intel TDX quote verifications per second with the PCK chain cached (a shared
 * PckChainCache, as a server keeps it), against the raw node:crypto ECDSA P-256 verifications a quote needs (the
 * quote signature by the attestation key and the QE report signature by the PCK key, keys already imported),
 * measured in the same run; `cold` is a fresh cache per call (certificate parsing and three chain signatures).
 * ratio = cached / raw (goal >= 0.8). Input: Trustee's real v5 / TD 1.5 quote.
 * Usage: npm run bench -- verify-tdx [rounds=7] [ms-per-measurement=1500]
 */
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PckChainCache, parseTdxQuote, verifyTdxQuote } from "../../runtime/attestation/index.js";

const V = join(__dirname, "../../test/vectors/attestation/tdx");
const rounds = Number(process.argv[2] ?? 7);
const budgetMs = Number(process.argv[3] ?? 1500);
const quote = readFileSync(join(V, "quotes/v5-tdx15-trustee-tdx_quote_5.bin"));
const now = new Date("2026-02-03T01:00:00Z");
const cache = new PckChainCache();
const q = parseTdxQuote(quote);
const pckKey = verifyTdxQuote({ quote, now, cache }).chain.leaf.publicKey;
const xy = q.attestationKey;
const attKey = createPublicKey({
  key: {
    kty: "EC",
    crv: "P-256",
    x: xy.subarray(0, 32).toString("base64url"),
    y: xy.subarray(32).toString("base64url"),
  },
  format: "jwk",
});

function rate(fn: () => unknown): number {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n * 1000) / elapsed;
}

const raw = () => {
  const a = cryptoVerify("sha256", q.signedBytes, { key: attKey, dsaEncoding: "ieee-p1363" }, q.signature);
  const b = cryptoVerify("sha256", q.qeReport.raw, { key: pckKey, dsaEncoding: "ieee-p1363" }, q.qeReportSignature);
  if (!a || !b) throw new Error("raw verification failed");
};
const cached = () => verifyTdxQuote({ quote, now, cache });
const cold = () => verifyTdxQuote({ quote, now });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratios: number[] = [];
const rawR: number[] = [];
const cachedR: number[] = [];
const coldR: number[] = [];
for (let r = 0; r < rounds; r++) {
  const a = rate(raw);
  const b = rate(cached);
  rawR.push(a);
  cachedR.push(b);
  ratios.push(b / a);
  coldR.push(rate(cold));
}
process.stdout.write(
  `v5 TD 1.5 quote (Trustee), ${rounds} rounds x ${budgetMs} ms, medians: raw 2x ECDSA P-256 ${median(rawR).toFixed(0)}/s, ` +
    `cached ${median(cachedR).toFixed(0)}/s, cold ${median(coldR).toFixed(0)}/s\n` +
    `bench verify-tdx: ratio=${median(ratios).toFixed(2)} cached_per_s=${median(cachedR).toFixed(0)} raw_per_s=${median(rawR).toFixed(0)} cold_per_s=${median(coldR).toFixed(0)}\n`,
);
