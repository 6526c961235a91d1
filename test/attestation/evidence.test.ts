import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configfsTsmProvider, type TsmFs } from "../../runtime/attester/evidence/configfs-tsm.js";
import { simulatedProvider } from "../../runtime/simulators/snp/evidence-provider.js";
import { snpguestProvider } from "../../runtime/attester/evidence/snpguest.js";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/snp/report.js";
import { parseCertificates } from "../../core/index.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const measurement = "6d".repeat(48);
const reportData = Buffer.alloc(64, 0x42);
const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`;

async function verifies(sim: SimulatedSnp, bundle: { report: Buffer; collateral: { vek?: Uint8Array } }) {
  // Inside every validity window: one day after the VEK's notBefore (VEKs are issued after the ARK).
  const vek = bundle.collateral.vek ?? (await sim.vcek(SIMULATED_DEFAULT_TCB[sim.product]));
  const now = new Date(parseCertificates(vek)[0]!.notBefore.getTime() + 86_400_000);
  return verifySnpEvidence({
    report: bundle.report,
    collateral: bundle.collateral,
    anchors: [sim.anchor()],
    now,
    getter: sim.getter(),
  });
}

/** A fake configfs-tsm tree on a temp dir: the "kernel" fills outblob/auxblob when inblob is written. */
function fakeTsm(
  sim: SimulatedSnp,
  behaviour: {
    provider?: string;
    bumpOnRead?: boolean;
    outblob?: (r: Buffer) => Buffer;
    auxblob?: (t: Buffer) => Buffer | undefined;
  } = {},
) {
  const root = mkdtempSync(join(tmpdir(), "tsm-"));
  const log: string[] = [];
  let generation = 0;
  const fs: TsmFs = {
    async mkdir(p) {
      log.push(`mkdir ${p.slice(root.length + 1).replace(/-[0-9]+-[0-9a-f]{8}$/, "-*")}`);
      await mkdir(p);
      await writeFile(join(p, "provider"), `${behaviour.provider ?? "sev_guest"}\n`);
      await writeFile(join(p, "generation"), "0\n");
    },
    async rmdir(p) {
      log.push("rmdir");
      await rm(p, { recursive: true });
    },
    async writeFile(p, data) {
      const name = p.split("/").pop();
      log.push(`write ${name}`);
      await writeFile(p, data);
      if (name === "inblob" || name === "privlevel") await writeFile(join(p, "..", "generation"), `${++generation}\n`);
      if (name === "inblob") {
        const dir = join(p, "..");
        const vmpl = existsSync(join(dir, "privlevel")) ? Number(readFileSync(join(dir, "privlevel"), "utf8")) : 0;
        const ev = await sim.sign({ measurement, reportData: Buffer.from(data as Uint8Array), vmpl });
        await writeFile(join(dir, "outblob"), behaviour.outblob ? behaviour.outblob(ev.report) : ev.report);
        const aux = behaviour.auxblob ? behaviour.auxblob(ev.certTable) : ev.certTable;
        if (aux) await writeFile(join(dir, "auxblob"), aux);
      }
    },
    async readFile(p) {
      const name = p.split("/").pop();
      if (name === "outblob" && behaviour.bumpOnRead) await writeFile(join(p, "..", "generation"), `${++generation}\n`);
      return readFile(p);
    },
  };
  return { root, fs, log };
}

describe("configfs-tsm provider (fake kernel tree)", () => {
  it("writes inblob (and privlevel), reads outblob and auxblob, removes the entry; the bundle verifies", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const t = fakeTsm(sim);
    const bundle = await configfsTsmProvider({ root: t.root, fs: t.fs }).getEvidence({ reportData, vmpl: 2 });
    expect(t.log).toEqual([`mkdir confidential-inference-*`, "write privlevel", "write inblob", "rmdir"]);
    expect(readdirSync(t.root)).toEqual([]);
    const got = await verifies(sim, bundle);
    expect([
      got.report.reportData.equals(reportData),
      got.report.vmpl,
      got.claims.measurement,
      bundle.certTable?.length !== undefined,
    ]).toEqual([true, 2, measurement, true]);
  });

  it("works without auxblob (the verifier then fetches the VCEK)", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const t = fakeTsm(sim, { auxblob: () => undefined });
    const bundle = await configfsTsmProvider({ root: t.root, fs: t.fs }).getEvidence({ reportData });
    expect(bundle.collateral).toEqual({});
    await expect(verifies(sim, bundle)).resolves.toMatchObject({ rootId: "simulated" });
  });

  it.each([
    ["no configfs-tsm directory", { missingRoot: true }, "EVIDENCE_UNAVAILABLE"],
    ["a TDX provider", { provider: "tdx_guest" }, "EVIDENCE_UNAVAILABLE"],
    ["generation changed while reading (another writer)", { bumpOnRead: true }, "EVIDENCE_UNAVAILABLE"],
    ["a truncated outblob", { outblob: (r: Buffer) => r.subarray(0, 1000) }, "EVIDENCE_MALFORMED"],
    ["an auxblob without terminator", { auxblob: (a: Buffer) => a.subarray(0, 30) }, "EVIDENCE_MALFORMED"],
  ] as const)("%s -> %s (entry removed)", async (_name, b, code) => {
    const sim = await sharedSimulatedSnp("Genoa");
    const t = fakeTsm(sim, b as never);
    const root = "missingRoot" in b ? join(t.root, "absent") : t.root;
    await expect(configfsTsmProvider({ root, fs: t.fs }).getEvidence({ reportData })).rejects.toMatchObject({ code });
    expect(readdirSync(t.root)).toEqual([]);
  });

  it("refuses report data that is not 64 bytes (caller misuse)", async () => {
    await expect(
      configfsTsmProvider({ root: "/nonexistent" }).getEvidence({ reportData: Buffer.alloc(32) }),
    ).rejects.toThrow(TypeError);
    await expect(configfsTsmProvider({ root: "/nonexistent" }).getEvidence({ reportData, vmpl: 4 })).rejects.toThrow(
      TypeError,
    );
  });
});

describe("snpguest provider (/dev/sev-guest through a fake snpguest binary)", () => {
  async function fakeBinary(options: { failReport?: boolean; failCerts?: boolean } = {}) {
    const sim = await sharedSimulatedSnp("Milan");
    const ev = await sim.sign({ measurement, reportData });
    const dir = mkdtempSync(join(tmpdir(), "fake-snpguest-"));
    writeFileSync(join(dir, "report.bin"), ev.report);
    writeFileSync(join(dir, "vcek.pem"), pem(ev.vek));
    writeFileSync(join(dir, "ask.pem"), pem(sim.roots.ask));
    writeFileSync(join(dir, "ark.pem"), pem(sim.roots.ark));
    const bin = join(dir, "snpguest");
    writeFileSync(
      bin,
      [
        "#!/bin/sh",
        `echo "$@" >> "${dir}/args.log"`,
        'case "$1" in',
        `  report) ${options.failReport ? 'echo "Error: failed to open SEV firmware device." >&2; exit 1' : `cp "${dir}/report.bin" "$2"; cp "$3" "${dir}/request.copy"`} ;;`,
        `  certificates) ${options.failCerts ? "exit 1" : `mkdir -p "$3"; cp "${dir}/vcek.pem" "${dir}/ask.pem" "${dir}/ark.pem" "$3/"`} ;;`,
        "esac",
        "",
      ].join("\n"),
    );
    chmodSync(bin, 0o755);
    const scratch = join(dir, "scratch");
    mkdirSync(scratch);
    return { sim, dir, bin, scratch };
  }

  it("runs `snpguest report` with the request file and VMPL, then `snpguest certificates PEM`; the bundle verifies", async () => {
    const f = await fakeBinary();
    const bundle = await snpguestProvider({ binary: f.bin, scratchDir: f.scratch }).getEvidence({
      reportData,
      vmpl: 0,
    });
    const args = readFileSync(join(f.dir, "args.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.replace(/\/[^ ]*snpguest-[^/ ]+/g, "$SCRATCH"));
    expect(args).toEqual([
      "report $SCRATCH/report.bin $SCRATCH/request.bin --vmpl 0",
      "certificates PEM $SCRATCH/certs",
    ]);
    expect(readFileSync(join(f.dir, "request.copy")).equals(reportData)).toBe(true);
    expect(readdirSync(f.scratch)).toEqual([]);
    await expect(verifies(f.sim, bundle)).resolves.toMatchObject({ signer: "vcek", claims: { measurement } });
  });

  it("returns the report without certificates when the host loaded none", async () => {
    const f = await fakeBinary({ failCerts: true });
    const bundle = await snpguestProvider({ binary: f.bin, scratchDir: f.scratch }).getEvidence({ reportData });
    expect(bundle.collateral).toEqual({});
  });

  it("a failing snpguest is EVIDENCE_UNAVAILABLE with its first stderr line", async () => {
    const f = await fakeBinary({ failReport: true });
    await expect(
      snpguestProvider({ binary: f.bin, scratchDir: f.scratch }).getEvidence({ reportData }),
    ).rejects.toMatchObject({
      code: "EVIDENCE_UNAVAILABLE",
      message: expect.stringContaining("Error: failed to open SEV firmware device."),
    });
    expect(readdirSync(f.scratch)).toEqual([]);
  });

  it("a missing snpguest binary is EVIDENCE_UNAVAILABLE", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "no-snpguest-"));
    await expect(
      snpguestProvider({ binary: join(scratch, "absent"), scratchDir: scratch }).getEvidence({ reportData }),
    ).rejects.toMatchObject({ code: "EVIDENCE_UNAVAILABLE", message: expect.stringContaining("ENOENT") });
    rmSync(scratch, { recursive: true });
  });
});

describe("simulated provider", () => {
  it("signs the requested REPORT_DATA and VMPL with the configured measurement", async () => {
    const sim = await sharedSimulatedSnp("Turin");
    const bundle = await simulatedProvider(sim, { measurement }).getEvidence({ reportData, vmpl: 1 });
    const got = await verifies(sim, bundle);
    expect([got.report.vmpl, got.report.reportData.equals(reportData), got.product]).toEqual([1, true, "Turin"]);
  });
});
