/**
 * `npm run bench -- verify`: SEV-SNP report verifications per second with the certificate chain
 * cached (a shared ChainCache, as a server keeps it) and cold (a fresh cache per call: certificate
 * parsing and three RSA-4096 PSS chain signatures every time), against the raw node:crypto ECDSA
 * P-384 verify rate over the same 672 signed bytes with the same key, measured in the same run.
 * ratio = cached / raw (goal >= 0.8): the verifier's own cost on top of the one ECDSA verify it
 * cannot avoid. Input: the real Genoa v5 report (oak) and its VCEK.
 * Usage: npm run bench -- verify [rounds=7] [ms-per-measurement=1500]
 */
import { verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseReport, signatureToP1363, signedBytes } from "../../runtime/attestation/abi/report.js";
import { ChainCache } from "../../runtime/attestation/verify/chain.js";
import { amdTrustAnchors } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { parseCertificate } from "../../core/index.js";

const V = join(__dirname, "../../test/vectors/attestation/snp");
const rounds = Number(process.argv[2] ?? 7);
const budgetMs = Number(process.argv[3] ?? 1500);

const report = readFileSync(join(V, "reports/genoa-v5-vcek-oak-oc.bin"));
const vek = readFileSync(join(V, "certs/vcek-genoa-oak-oc.der"));
const now = new Date("2026-01-01T00:00:00Z");
const anchors = amdTrustAnchors();
const shared = new ChainCache();
const key = parseCertificate(vek).publicKey;
const signed = signedBytes(report);
const signature = signatureToP1363(parseReport(report).signature);

/** Runs `fn` repeatedly for about `budgetMs`; returns operations per second. */
async function rate(fn: () => unknown): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return n / (elapsed / 1000);
}

const raw = () => {
  if (!cryptoVerify("sha384", signed, { key, dsaEncoding: "ieee-p1363" }, signature))
    throw new Error("raw verify failed");
};
const cached = () => verifySnpEvidence({ report, collateral: { vek }, anchors, now, cache: shared });
const cold = () => verifySnpEvidence({ report, collateral: { vek }, anchors, now, cache: new ChainCache() });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

void (async () => {
  await cached();
  for (let i = 0; i < 50; i++) {
    raw();
    await cached();
    await cold();
  }
  const r = { raw: [] as number[], cached: [] as number[], cold: [] as number[], ratio: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Interleaved so load from other processes hits all three alike; the ratio is taken per round.
    const a = await rate(raw);
    const b = await rate(cached);
    const c = await rate(cold);
    r.raw.push(a);
    r.cached.push(b);
    r.cold.push(c);
    r.ratio.push(b / a);
  }
  const m = { raw: median(r.raw), cached: median(r.cached), cold: median(r.cold), ratio: median(r.ratio) };
  const f = (x: number) => x.toFixed(0);
  console.log(
    `input: genoa-v5-vcek-oak-oc.bin + its VCEK, pinned AMD roots; median of ${rounds} interleaved rounds of ~${budgetMs} ms each`,
  );
  console.log(`raw node:crypto ECDSA P-384 verify      ${f(m.raw)} /s`);
  console.log(`verifySnpEvidence, chain cached         ${f(m.cached)} /s  (${(1e6 / m.cached).toFixed(0)} us each)`);
  console.log(`verifySnpEvidence, cold (no cache)      ${f(m.cold)} /s  (${(1e6 / m.cold).toFixed(0)} us each)`);
  console.log(
    `bench verify: ratio=${m.ratio.toFixed(2)} cached_per_s=${f(m.cached)} cold_per_s=${f(m.cold)} raw_ecdsa_p384_per_s=${f(m.raw)} cold_ratio=${(m.cold / m.raw).toFixed(2)}`,
  );
})();
