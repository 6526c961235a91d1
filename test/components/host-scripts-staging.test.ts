/**
 * The host scripts that fetch and keep files under STATE_DIR: fetch-vcek.sh (VCEK and chain from a
 * file:// KDS, cached per TCB) and stage-artifact.sh (pinned artifacts: upload, store, download).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MILAN_CHIP, ROOT, run, TURIN_CHIP } from "../helpers/host-scripts.js";

const work = mkdtempSync(join(tmpdir(), "ci-host-scripts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("fetch-vcek.sh", () => {
  const kds = join(work, "kds");
  const vcekDer = readFileSync(join(ROOT, "test/vectors/attestation/snp/certs/vcek-milan-azure-hcl.der"));
  const chainPem = readFileSync(join(ROOT, "test/vectors/attestation/snp/amd-roots/cert_chain-vcek-milan.pem"), "utf8");
  mkdirSync(join(kds, "vcek/v1/Milan"), { recursive: true });
  mkdirSync(join(kds, "vcek/v1/Turin"), { recursive: true });
  writeFileSync(join(kds, "vcek/v1/Milan", MILAN_CHIP), vcekDer);
  writeFileSync(join(kds, "vcek/v1/Milan/cert_chain"), chainPem);
  writeFileSync(join(kds, "vcek/v1/Turin", TURIN_CHIP.slice(0, 16)), vcekDer);
  writeFileSync(join(kds, "vcek/v1/Turin/cert_chain"), chainPem);
  const tcb = { TCB_BOOTLOADER: "4", TCB_TEE: "0", TCB_SNP: "22", TCB_MICROCODE: "213" };
  const state = join(work, "state");

  it("downloads the VCEK for the reported TCB and the chain, then serves both from the cache", () => {
    const env = { PRODUCT: "Milan", CHIP_ID: MILAN_CHIP, ...tcb, KDS_BASE_URL: `file://${kds}`, STATE_DIR: state };
    const first = run("fetch-vcek.sh", env);
    const url = `file://${kds}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213`;
    const sha = createHash("sha256").update(vcekDer).digest("hex");
    expect(first).toEqual({
      code: 0,
      stdout: `{"vcekUrl":"${url}","vcekSha256":"${sha}","certsDir":"${state}/vcek/current","cached":false}\n`,
      stderr: "",
    });
    expect(readFileSync(join(state, `vcek/Milan/${MILAN_CHIP}/bl4-tee0-snp22-ucode213.der`))).toEqual(vcekDer);
    expect(readFileSync(join(state, "vcek/current/vcek.der"))).toEqual(vcekDer);
    const [ask, ark] = chainPem.split(/(?=-----BEGIN CERTIFICATE-----)/);
    expect(readFileSync(join(state, "vcek/current/ask.pem"), "utf8")).toBe(ask);
    expect(readFileSync(join(state, "vcek/current/ark.pem"), "utf8")).toBe(ark);
    const second = run("fetch-vcek.sh", { ...env, CURL: "/bin/false" });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).cached).toBe(true);
  });

  it("keys Turin VCEKs by the first 8 bytes of the chip id, FMC first", () => {
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Turin",
      CHIP_ID: TURIN_CHIP,
      ...tcb,
      TCB_FMC: "0",
      KDS_BASE_URL: `file://${kds}`,
      STATE_DIR: join(work, "turin"),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).vcekUrl).toBe(
      `file://${kds}/vcek/v1/Turin/${TURIN_CHIP.slice(0, 16)}?fmcSPL=0&blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213`,
    );
  });

  it.each([
    [
      "KDS is unreachable",
      { CURL: "/bin/false" },
      1,
      `fetch-vcek: kds-unavailable: could not download file://${kds}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213\n`,
    ],
    [
      "the chip id is masked",
      { CHIP_ID: "0".repeat(128) },
      1,
      "fetch-vcek: masked-chip-id: CHIP_ID is all zero (MASK_CHIP_ID is set): KDS cannot issue a VCEK; use a VLEK\n",
    ],
    ["an SPL is out of range", { TCB_SNP: "256" }, 2, "fetch-vcek: usage: TCB_SNP must be an SPL between 0 and 255\n"],
    ["the product is unknown", { PRODUCT: "Rome" }, 2, "fetch-vcek: usage: PRODUCT must be Milan, Genoa or Turin\n"],
  ])("fails when %s", (_n, patch, code, stderr) => {
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Milan",
      CHIP_ID: MILAN_CHIP,
      ...tcb,
      KDS_BASE_URL: `file://${kds}`,
      STATE_DIR: join(work, `fail-${code}-${Object.keys(patch)[0]}`),
      ...patch,
    });
    expect(r).toEqual({ code, stdout: "", stderr });
  });

  it("rejects an answer that is not a DER certificate", () => {
    const bad = join(work, "kds-bad");
    mkdirSync(join(bad, "vcek/v1/Milan"), { recursive: true });
    writeFileSync(join(bad, "vcek/v1/Milan", MILAN_CHIP), "Too Many Requests\n");
    writeFileSync(join(bad, "vcek/v1/Milan/cert_chain"), chainPem);
    const s = join(work, "state-bad");
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Milan",
      CHIP_ID: MILAN_CHIP,
      ...tcb,
      KDS_BASE_URL: `file://${bad}`,
      STATE_DIR: s,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `fetch-vcek: kds-bad-response: the VCEK from file://${bad}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213 is not a DER certificate\n`,
    );
    expect(existsSync(join(s, `vcek/Milan/${MILAN_CHIP}/bl4-tee0-snp22-ucode213.der`))).toBe(false);
  });
});

describe("stage-artifact.sh", () => {
  const bytes = Buffer.from("kernel image bytes\n".repeat(100));
  const sha = createHash("sha256").update(bytes).digest("hex");
  const state = join(work, "stage");
  const base = { NAME: "kernel-6.12", SHA256: sha, SIZE: String(bytes.length), STATE_DIR: state };
  const blob = join(state, "artifacts/sha256", sha);

  it("moves a verified upload into the store and links it, then reuses the store", () => {
    const incoming = join(work, `upload-${sha}`);
    writeFileSync(incoming, bytes);
    const link = join(state, "guests/a/kernel");
    expect(run("stage-artifact.sh", { ...base, LINK: link, INCOMING: incoming })).toEqual({
      code: 0,
      stdout: `{"name":"kernel-6.12","sha256":"${sha}","size":${bytes.length},"path":"${link}","source":"upload"}\n`,
      stderr: "",
    });
    expect(existsSync(incoming)).toBe(false);
    expect(readFileSync(link)).toEqual(bytes);
    const link2 = join(state, "guests/b/kernel");
    expect(JSON.parse(run("stage-artifact.sh", { ...base, LINK: link2 }).stdout).source).toBe("store");
    expect(statSync(blob).nlink).toBe(3);
  });

  it("deletes idempotently and keeps the store copy while another guest links it", () => {
    const link = join(state, "guests/a/kernel");
    for (let i = 0; i < 2; i++)
      expect(run("stage-artifact.sh", { ...base, LINK: link, ACTION: "delete" })).toEqual({
        code: 0,
        stdout: '{"name":"kernel-6.12","deleted":true}\n',
        stderr: "",
      });
    expect(existsSync(blob)).toBe(true);
    run("stage-artifact.sh", { ...base, LINK: join(state, "guests/b/kernel"), ACTION: "delete" });
    expect(existsSync(blob)).toBe(false);
  });

  it("downloads from the source URL and verifies the bytes", () => {
    const src = join(work, "kernel.src");
    writeFileSync(src, bytes);
    const r = run("stage-artifact.sh", { ...base, LINK: join(state, "guests/c/kernel"), SOURCE_URL: `file://${src}` });
    expect(JSON.parse(r.stdout).source).toBe("download");
  });

  it.each([
    [
      "an upload that does not match the pin",
      () => {
        const p = join(work, "bad-upload");
        writeFileSync(p, "tampered");
        return { INCOMING: p, STATE_DIR: join(work, "stage-2") };
      },
      `stage-artifact: artifact-mismatch: the uploaded kernel-6.12 does not match sha256 ${sha} and size ${bytes.length}\n`,
    ],
    [
      "nothing to stage from",
      () => ({ STATE_DIR: join(work, "stage-3") }),
      "stage-artifact: artifact-missing: kernel-6.12 is not staged on this host and has neither an upload nor a download URL\n",
    ],
    [
      "a corrupted store copy",
      () => {
        const s = join(work, "stage-4");
        mkdirSync(join(s, "artifacts/sha256"), { recursive: true });
        writeFileSync(join(s, "artifacts/sha256", sha), bytes.subarray(1));
        return { STATE_DIR: s };
      },
      null,
    ],
  ])("refuses %s", (_n, setup, stderr) => {
    const env = setup();
    const r = run("stage-artifact.sh", { ...base, LINK: join(work, "never", "kernel"), ...env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    if (stderr !== null) expect(r.stderr).toBe(stderr);
    else
      expect(r.stderr).toMatch(
        new RegExp(
          `^stage-artifact: artifact-corrupt: the stored copy of kernel-6.12 does not match its pin \\(moved aside to .*/${sha}\\.corrupt\\.\\d+\\)\\n$`,
        ),
      );
    expect(existsSync(join(work, "never", "kernel"))).toBe(false);
  });
});
