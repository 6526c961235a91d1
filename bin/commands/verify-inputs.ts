/**
 * Inputs of `attestctl verify snp`: the report, the certificates (`--vcek FILE`, or `--certs DIR` in
 * the layout AMD tooling writes), the policy file, and the collateral getter. File access lives here
 * so the verifier itself stays pure.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type AttestationError,
  isSnpProduct,
  type SnpProduct,
  parseAttestationPolicy,
  type SnpAttestationPolicy,
  cachedGetter,
  kdsGetter,
  type CollateralGetter,
  directoryGetter,
  trustAnchor,
  type TrustAnchor,
  type SnpCollateral,
  readCertificates,
} from "../../runtime/attestation/index.js";
import { nameValue, OID } from "../../core/index.js";
import { UsageError } from "../errors.js";
import { EXIT, type CliIo } from "../io.js";

export { UsageError as VerifyUsageError };

/** Reads a file relative to `cwd`, as a usage error when it cannot. */
export function readInput(cwd: string, path: string, what: string): Buffer {
  try {
    return readFileSync(resolve(cwd, path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The first of `names` that exists in `dir`, read. */
function firstOf(dir: string, names: readonly string[]): Buffer | undefined {
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p)) return readFileSync(p);
  }
  return undefined;
}

/** `--certs DIR`: ark.pem, ask.pem|asvk.pem, vcek.der|vcek.pem|vlek.der|vlek.pem (DER variants of ARK/ASK too, as snpguest writes them). */
export function readCertsDir(cwd: string, dir: string): SnpCollateral {
  const d = resolve(cwd, dir);
  if (!existsSync(d)) throw new UsageError(`--certs ${dir}: no such directory`);
  const ark = firstOf(d, ["ark.pem", "ark.der"]);
  const intermediate = firstOf(d, ["ask.pem", "ask.der", "asvk.pem", "asvk.der"]);
  const vek = firstOf(d, ["vcek.der", "vcek.pem", "vlek.der", "vlek.pem"]);
  return { ...(vek ? { vek } : {}), ...(intermediate ? { intermediate } : {}), ...(ark ? { ark } : {}) };
}

/** `--policy FILE`: JSON, parsed strictly; problems are usage errors listing every field path. */
export function readPolicy(cwd: string, path: string): SnpAttestationPolicy {
  const text = readInput(cwd, path, "policy").toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--policy ${path}: not JSON (${(e as Error).message})`);
  }
  try {
    return parseAttestationPolicy(json);
  } catch (e) {
    throw new UsageError(`--policy ${path}: ${(e as Error).message}`);
  }
}

/**
 * The simulated anchor, only when the policy trusts `simulated`: the ARK (and ASK/ASVK) of `--certs DIR`.
 * Without a policy that lists it, a presented simulated ARK is just an untrusted root.
 */
export function simulatedAnchorFrom(
  collateral: SnpCollateral,
  certsDir: string | undefined,
  cwd: string,
): TrustAnchor | undefined {
  if (!collateral.ark || certsDir === undefined) return undefined;
  const ark = readCertificates(collateral.ark)[0];
  const cn = ark ? (nameValue(ark.subject, OID.commonName) ?? "") : "";
  const product = cn.replace(/^ARK-/, "");
  if (!isSnpProduct(product)) throw new UsageError(`--certs ${certsDir}: ark CN "${cn}" names no known product`);
  const d = resolve(cwd, certsDir);
  return trustAnchor("simulated", product as SnpProduct, {
    ark: collateral.ark,
    ask: firstOf(d, ["ask.pem", "ask.der"]),
    asvk: firstOf(d, ["asvk.pem", "asvk.der"]),
  });
}

/** Where missing collateral comes from: `ATTESTCTL_KDS_DIR` (offline KDS layout) or AMD KDS over HTTPS. */
export function collateralGetter(env: Readonly<Record<string, string | undefined>>, cwd: string): CollateralGetter {
  const offline = env.ATTESTCTL_KDS_DIR;
  return offline ? directoryGetter(resolve(cwd, offline)) : cachedGetter(kdsGetter());
}

/**
 * Reports an authenticity failure: `rejected: CODE: message` on stderr and, with `--json`, the verdict on stdout;
 * returns the exit code (1).
 */
export function printRejected(
  io: CliIo,
  e: AttestationError,
  o: { readonly json: boolean; readonly tee: "sev-snp" | "tdx"; readonly checked: string; readonly path: string },
): number {
  io.stderr(`rejected: ${e.code}: ${e.message}\n`);
  if (o.json)
    io.stdout(
      `${JSON.stringify({ tee: o.tee, accepted: false, checked: o.checked, failures: [{ code: e.code, path: e.path ?? o.path, message: e.message }] }, null, 2)}\n`,
    );
  return EXIT.failed;
}
