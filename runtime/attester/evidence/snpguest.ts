/**
 * `/dev/sev-guest` (SNP_GET_REPORT / SNP_GET_EXT_REPORT ioctls). Node cannot issue ioctls and no
 * well-kept native binding exists on npm (the `ioctl` package is unmaintained and cannot pass the
 * request structures), so this provider runs virtee's `snpguest` tool, which does: `snpguest report
 * <report> <request-file> --vmpl N` (the request file holds the 64 REPORT_DATA bytes) and, for the
 * host-provided certificates, `snpguest certificates PEM <dir>` (ark.pem, ask.pem, vcek.pem or
 * vlek.pem). The process runner is injected; tests use a fake binary.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttesterError } from "../errors.js";
import type { SnpCollateral } from "../../attestation/index.js";
import { checkEvidenceRequest, snpBundle, type EvidenceProvider } from "./provider.js";

/** Runs a program; rejects with the error (and stderr) when it exits non-zero or cannot start. */
export type RunProgram = (file: string, args: readonly string[]) => Promise<{ stdout: string; stderr: string }>;

const defaultRun: RunProgram = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 30_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve({ stdout, stderr });
    });
  });

/** Options of {@link snpguestProvider}. */
export interface SnpguestOptions {
  /** Path or name of the snpguest binary (default `snpguest`). */
  readonly binary?: string;
  /** Fetch the host-provided certificates too (default true; failure is not fatal). */
  readonly certificates?: boolean;
  readonly run?: RunProgram;
  /** Parent of the per-request scratch directory (default the OS temp dir). */
  readonly scratchDir?: string;
}

function unavailable(message: string, cause?: unknown): AttesterError {
  return new AttesterError("EVIDENCE_UNAVAILABLE", `snpguest: ${message}`, { path: "evidence", cause });
}

async function readOptional(dir: string, names: readonly string[]): Promise<Buffer | undefined> {
  for (const n of names) {
    try {
      return await readFile(join(dir, n));
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

/**
 * Evidence from `/dev/sev-guest` through snpguest.
 * @example const ev = await snpguestProvider({ binary: "/usr/bin/snpguest" }).getEvidence({ reportData });
 */
export function snpguestProvider(options: SnpguestOptions = {}): EvidenceProvider {
  const binary = options.binary ?? "snpguest";
  const run = options.run ?? defaultRun;
  return {
    name: "snpguest",
    async getEvidence(request) {
      const vmpl = checkEvidenceRequest(request);
      const dir = await mkdtemp(join(options.scratchDir ?? tmpdir(), "snpguest-"));
      try {
        const reportFile = join(dir, "report.bin");
        const requestFile = join(dir, "request.bin");
        await writeFile(requestFile, request.reportData, { mode: 0o600 });
        try {
          await run(binary, ["report", reportFile, requestFile, "--vmpl", String(vmpl)]);
        } catch (e) {
          const stderr = String((e as { stderr?: string }).stderr ?? "").split("\n")[0] ?? "";
          throw unavailable(
            `"${binary} report" failed (${(e as NodeJS.ErrnoException).code ?? "exit"}${stderr ? `: ${stderr}` : ""})`,
            e,
          );
        }
        const report = await readFile(reportFile).catch((e: unknown) => {
          throw unavailable("the report file was not written", e);
        });
        let collateral: SnpCollateral = {};
        if (options.certificates ?? true) {
          const certs = join(dir, "certs");
          try {
            await run(binary, ["certificates", "PEM", certs]);
            const vek = await readOptional(certs, ["vcek.pem", "vlek.pem"]);
            const intermediate = await readOptional(certs, ["ask.pem", "asvk.pem"]);
            const ark = await readOptional(certs, ["ark.pem"]);
            collateral = {
              ...(vek ? { vek } : {}),
              ...(intermediate ? { intermediate } : {}),
              ...(ark ? { ark } : {}),
            };
          } catch {
            collateral = {}; // the host loaded no certificates: the verifier fetches the VCEK itself
          }
        }
        return snpBundle(report, undefined, collateral);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
