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
      const entry = join(root, `confidential-inference-${process.pid}-${randomBytes(4).toString("hex")}`);
      try {
        await fs.mkdir(entry);
      } catch (e) {
        throw unavailable(
          `cannot create a report entry under ${root} (${(e as NodeJS.ErrnoException).code ?? "error"}); is this an SEV-SNP guest with configfs-tsm?`,
          e,
        );
      }
      try {
        const provider = (await fs.readFile(join(entry, "provider"))).toString("utf8").trim();
        if (provider !== "sev_guest") throw unavailable(`the TSM provider is "${provider}", not sev_guest`);
        if (request.vmpl !== undefined) await fs.writeFile(join(entry, "privlevel"), `${vmpl}\n`);
        await fs.writeFile(join(entry, "inblob"), request.reportData);
        const before = (await fs.readFile(join(entry, "generation"))).toString("utf8").trim();
        const report = await fs.readFile(join(entry, "outblob"));
        let aux: Buffer | undefined;
        try {
          aux = await fs.readFile(join(entry, "auxblob"));
        } catch {
          aux = undefined; // older kernels or a host without certificates
        }
        const after = (await fs.readFile(join(entry, "generation"))).toString("utf8").trim();
        if (before !== after)
          throw unavailable(`the entry changed while it was read (generation ${before} -> ${after}); retry`);
        return snpBundle(report, aux);
      } catch (e) {
        if (e instanceof AttesterError) throw e;
        throw unavailable(
          `the firmware did not return a report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          e,
        );
      } finally {
        await fs.rmdir(entry).catch(() => undefined);
      }
    },
  };
}
