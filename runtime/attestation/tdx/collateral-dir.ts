/**
 * TDX collateral from a directory (air-gapped sites, or a PCCS mirror): `tcbinfo-<fmspc>.json`, `qe-identity.json`,
 * `tcb-signing-chain.pem` (the `TCB-Info-Issuer-Chain` header, decoded), and optionally `pck-crl-<platform|processor>.der`
 * and `root-ca-crl.der`. A missing required file is `COLLATERAL_UNAVAILABLE` naming it (the caller chooses to fail
 * open or closed, as for SNP).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AttestationError } from "../errors.js";
import type { TdxCollateral } from "./collateral-check.js";

/** File names of the directory layout, for a platform's FMSPC (hex) and PCK CA. */
export function tdxCollateralFiles(fmspc: string, ca: "platform" | "processor") {
  return {
    tcbInfo: `tcbinfo-${fmspc.toLowerCase()}.json`,
    qeIdentity: "qe-identity.json",
    tcbSigningChain: "tcb-signing-chain.pem",
    pckCrl: `pck-crl-${ca}.der`,
    rootCrl: "root-ca-crl.der",
  } as const;
}

/**
 * Reads the collateral of one platform from `dir`.
 *
 * @example
 * const collateral = readTdxCollateralDir("/srv/pcs", "50806f000000", "platform");
 */
export function readTdxCollateralDir(dir: string, fmspc: string, ca: "platform" | "processor"): TdxCollateral {
  const names = tdxCollateralFiles(fmspc, ca);
  const need = (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p))
      throw new AttestationError("COLLATERAL_UNAVAILABLE", `reading TDX collateral: ${p} is missing`, {
        path: `collateral.${name}`,
      });
    return readFileSync(p);
  };
  const maybe = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name)) : undefined);
  const pckCrl = maybe(names.pckCrl);
  const rootCrl = maybe(names.rootCrl);
  return {
    tcbInfo: need(names.tcbInfo),
    qeIdentity: need(names.qeIdentity),
    tcbSigningChain: need(names.tcbSigningChain).toString("utf8"),
    ...(pckCrl ? { pckCrl } : {}),
    ...(rootCrl ? { rootCrl } : {}),
  };
}
