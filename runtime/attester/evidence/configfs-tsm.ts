/**
 * Linux configfs-tsm (Documentation/ABI/testing/configfs-tsm, kernel >= 6.7): `mkdir` an entry under
 * `/sys/kernel/config/tsm/report`, write `privlevel` (optional) and `inblob` (REPORT_DATA), read
 * `outblob` (the report) and `auxblob` (SEV: the certificate table), check `generation` did not
 * change meanwhile (another writer), `rmdir` the entry. The file system is injected so the adapter
 * is tested against a fake kernel tree.
 */
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { AttesterError } from "../errors.js";
import { parseTdxQuote } from "../../attestation/index.js";
import { checkEvidenceRequest, snpBundle, type EvidenceProvider } from "./provider.js";

/** The file operations the adapter needs (node:fs/promises by default). */
export interface TsmFs {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
}

/** Default configfs-tsm report directory. */
export const TSM_REPORT_ROOT = "/sys/kernel/config/tsm/report";

const nodeFs: TsmFs = {
  mkdir: (p) => mkdir(p),
  rmdir: (p) => rmdir(p),
  writeFile: (p, d) => writeFile(p, d),
  readFile: (p) => readFile(p),
};

/** Options of {@link configfsTsmProvider}. */
export interface ConfigfsTsmOptions {
  /** Report directory (default {@link TSM_REPORT_ROOT}). */
  readonly root?: string;
  readonly fs?: TsmFs;
}

function unavailable(message: string, cause?: unknown): AttesterError {
  return new AttesterError("EVIDENCE_UNAVAILABLE", `configfs-tsm: ${message}`, { path: "evidence", cause });
}

/** What one configfs-tsm report entry returned. */
export interface TsmReport {
  readonly outblob: Buffer;
  /** SEV: the certificate table; absent on TDX, older kernels or a host without certificates. */
  readonly auxblob: Buffer | undefined;
}

/**
 * One report through configfs-tsm from the provider `provider` (`sev_guest`, `tdx_guest`): a fresh entry, the
 * privilege level (SEV only), the 64-byte inblob, outblob and auxblob read between two equal `generation` values, the
 * entry removed. Failures are `EVIDENCE_UNAVAILABLE` naming the step.
 */
export async function readTsmReport(
  o: { readonly root: string; readonly fs: TsmFs; readonly provider: string; readonly tee: string },
  reportData: Uint8Array,
  privlevel?: number,
): Promise<TsmReport> {
  const entry = join(o.root, `confidential-inference-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await o.fs.mkdir(entry);
  } catch (e) {
    throw unavailable(
      `cannot create a report entry under ${o.root} (${(e as NodeJS.ErrnoException).code ?? "error"}); is this an ${o.tee} guest with configfs-tsm?`,
      e,
    );
  }
  try {
    const provider = (await o.fs.readFile(join(entry, "provider"))).toString("utf8").trim();
    if (provider !== o.provider) throw unavailable(`the TSM provider is "${provider}", not ${o.provider}`);
    if (privlevel !== undefined) await o.fs.writeFile(join(entry, "privlevel"), `${privlevel}\n`);
    await o.fs.writeFile(join(entry, "inblob"), reportData);
    const before = (await o.fs.readFile(join(entry, "generation"))).toString("utf8").trim();
    const outblob = await o.fs.readFile(join(entry, "outblob"));
    let auxblob: Buffer | undefined;
    try {
      auxblob = await o.fs.readFile(join(entry, "auxblob"));
    } catch {
      auxblob = undefined; // TDX, older kernels or a host without certificates
    }
    const after = (await o.fs.readFile(join(entry, "generation"))).toString("utf8").trim();
    if (before !== after)
      throw unavailable(`the entry changed while it was read (generation ${before} -> ${after}); retry`);
    return { outblob, auxblob };
  } catch (e) {
    if (e instanceof AttesterError) throw e;
    throw unavailable(
      `the firmware did not return a report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      e,
    );
  } finally {
    await o.fs.rmdir(entry).catch(() => undefined);
  }
}

/**
 * Evidence through configfs-tsm (SEV-SNP provider `sev_guest`).
 * @example const ev = await configfsTsmProvider().getEvidence({ reportData });
 */
export function configfsTsmProvider(options: ConfigfsTsmOptions = {}): EvidenceProvider {
  const root = options.root ?? TSM_REPORT_ROOT;
  const fs = options.fs ?? nodeFs;
  return {
    name: "configfs-tsm",
    async getEvidence(request) {
      const vmpl = checkEvidenceRequest(request);
      const r = await readTsmReport(
        { root, fs, provider: "sev_guest", tee: "SEV-SNP" },
        request.reportData,
        request.vmpl !== undefined ? vmpl : undefined,
      );
      return snpBundle(r.outblob, r.auxblob);
    },
  };
}

/**
 * A TDX quote through configfs-tsm (provider `tdx_guest`, kernel >= 6.7): the TD's report bound to `reportData`,
 * turned into a quote by the host's Quoting Enclave. The quote's structure is checked (`EVIDENCE_MALFORMED`); its
 * authenticity is the verifier's job.
 *
 * @example const quote = await configfsTsmTdxQuote().getQuote(reportData);
 */
export function configfsTsmTdxQuote(options: ConfigfsTsmOptions = {}): {
  getQuote(reportData: Uint8Array): Promise<Buffer>;
} {
  const root = options.root ?? TSM_REPORT_ROOT;
  const fs = options.fs ?? nodeFs;
  return {
    async getQuote(reportData) {
      if (!(reportData instanceof Uint8Array) || reportData.length !== 64)
        throw new TypeError("getQuote: reportData must be exactly 64 bytes");
      const { outblob } = await readTsmReport({ root, fs, provider: "tdx_guest", tee: "Intel TDX" }, reportData);
      let body: Buffer;
      try {
        body = parseTdxQuote(outblob).body.reportData;
      } catch (cause) {
        throw new AttesterError("EVIDENCE_MALFORMED", "configfs-tsm: the outblob is not a TDX quote", {
          path: "evidence.quote",
          cause,
        });
      }
      if (!body.equals(Buffer.from(reportData)))
        throw new AttesterError(
          "EVIDENCE_MALFORMED",
          "configfs-tsm: the quote does not carry the requested REPORTDATA",
          {
            path: "evidence.quote.reportData",
          },
        );
      return outblob;
    },
  };
}
