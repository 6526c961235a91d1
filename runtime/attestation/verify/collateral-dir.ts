/**
 * Offline collateral: a directory laid out like AMD KDS. The file for a KDS path is the path with
 * its `?` replaced by `/`, relative to the directory:
 *
 * ```
 * <dir>/vcek/v1/Milan/cert_chain                                   ASK then ARK (PEM)
 * <dir>/vcek/v1/Milan/crl                                          CRL (DER)
 * <dir>/vcek/v1/Milan/<chip-id hex>/blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68    VCEK (DER)
 * <dir>/vlek/v1/Milan/cert_chain                                   ASVK then ARK (PEM)
 * ```
 */
import { readFile } from "node:fs/promises";
import { join, normalize, sep } from "node:path";
import { collateralUnavailable, type CollateralGetter } from "./collateral.js";

/** The file (relative to the directory) that holds a KDS path. */
export function kdsPathToFile(kdsPath: string): string {
  const rel = normalize(kdsPath.replace("?", "/").replace(/^\/+/, ""));
  if (rel.startsWith("..") || rel.split(sep).includes(".."))
    throw new TypeError(`kdsPathToFile: path escapes the directory: ${kdsPath}`);
  return rel;
}

/** A getter that reads collateral from `dir` (KDS layout above); a missing file is `COLLATERAL_UNAVAILABLE`. */
export function directoryGetter(dir: string): CollateralGetter {
  return {
    async get(kdsPath) {
      const file = join(dir, kdsPathToFile(kdsPath));
      try {
        return new Uint8Array(await readFile(file));
      } catch (e) {
        throw collateralUnavailable(
          kdsPath,
          `not in the offline directory (${(e as NodeJS.ErrnoException).code ?? "read error"})`,
          e,
        );
      }
    },
  };
}
