/** validateManifest's cross-field rules (artifact references, boot shape, SVSM, policy bits, allowlist order). */
import { describe, expect, it } from "vitest";
import { manifestFromJson, validateManifest, type ManifestProblem } from "../../../measurements/manifest/index.js";
import { withEdit } from "../../helpers/golden.js";
import { INPUTS, problemsOf } from "../../helpers/manifest-problems.js";

describe("validateManifest reports every field path", () => {
  it.each<[string, (m: any) => void, ManifestProblem[]]>([
    [
      "unknown firmware artifact",
      (m) => {
        m.launchShapes["runtime-small"].inputs.firmware = "ovmf";
      },
      [{ path: `${INPUTS}.firmware`, message: 'unknown artifact "ovmf"' }],
    ],
    [
      "kernel of the wrong kind",
      (m) => {
        m.launchShapes["runtime-small"].inputs.kernel = "initrd-dev";
      },
      [{ path: `${INPUTS}.kernel`, message: 'artifact "initrd-dev" is a initrd, expected a kernel' }],
    ],
    [
      "initrd without kernel",
      (m) => {
        delete m.launchShapes["runtime-small"].inputs.kernel;
        delete m.launchShapes["runtime-small"].inputs.cmdline;
      },
      [{ path: `${INPUTS}.initrd`, message: "an initrd needs a kernel (direct boot)" }],
    ],
    [
      "cmdline without kernel",
      (m) => {
        m.launchShapes["firmware-only"].inputs.cmdline = "quiet";
      },
      [{ path: "launchShapes.firmware-only.inputs.cmdline", message: "a cmdline needs a kernel (direct boot)" }],
    ],
    [
      "svsm mode without svsm",
      (m) => {
        m.launchShapes["runtime-small"].inputs.mode = "snp:svsm";
      },
      [
        { path: `${INPUTS}.svsm`, message: "required in mode snp:svsm" },
        { path: `${INPUTS}.varsSize`, message: "required in mode snp:svsm" },
      ],
    ],
    [
      "svsm fields in snp mode",
      (m) => {
        m.launchShapes["runtime-small"].inputs.svsm = "ovmf-amdsev";
        m.launchShapes["runtime-small"].inputs.varsSize = 540672;
      },
      [
        { path: `${INPUTS}.svsm`, message: 'artifact "ovmf-amdsev" is a firmware, expected a svsm' },
        { path: `${INPUTS}.svsm`, message: "only allowed in mode snp:svsm" },
        { path: `${INPUTS}.varsSize`, message: "only allowed in mode snp:svsm" },
      ],
    ],
    [
      "neither vcpu type nor signature",
      (m) => {
        delete m.launchShapes["runtime-small"].inputs.vcpuType;
        delete m.launchShapes["runtime-small"].inputs.vcpuSig;
      },
      [{ path: `${INPUTS}.vcpuSig`, message: "vcpuType or vcpuSig is required with vmmType QEMU" }],
    ],
    [
      "policy without bit 17",
      (m) => {
        m.launchShapes["runtime-small"].inputs.policy = "0x10000";
      },
      [{ path: `${INPUTS}.policy`, message: "bit 17 (reserved) must be 1" }],
    ],
    [
      "policy with reserved bits",
      (m) => {
        m.launchShapes["runtime-small"].inputs.policy = "0x4030000";
      },
      [{ path: `${INPUTS}.policy`, message: "bits 26..63 are reserved and must be 0" }],
    ],
    [
      "policy with debug not allowed",
      (m) => {
        m.launchShapes["runtime-small"].inputs.policy = "0xb0000";
      },
      [{ path: `${INPUTS}.policy`, message: "sets flag bits 0x80000 that allowedPolicyBits does not allow" }],
    ],
    [
      "allowed bits without bit 17",
      (m) => {
        m.allowedPolicyBits = "0x10000";
        for (const s of Object.values<any>(m.launchShapes)) s.inputs.policy = "0x20000";
      },
      [{ path: "allowedPolicyBits", message: "must include bit 17 (0x20000)" }],
    ],
    [
      "allowed bits with ABI fields",
      (m) => {
        m.allowedPolicyBits = "0x30001";
      },
      [{ path: "allowedPolicyBits", message: "bits 0..15 hold the ABI version, not flags: must be 0" }],
    ],
    [
      "allowed bits reserved",
      (m) => {
        m.allowedPolicyBits = "0x4030000";
      },
      [{ path: "allowedPolicyBits", message: "bits 26..63 are reserved and must be 0" }],
    ],
    [
      "unsorted chip allowlist",
      (m) => {
        m.chipAllowlist = ["b".repeat(128), "a".repeat(128)];
      },
      [{ path: "chipAllowlist[1]", message: "must be sorted in ascending order" }],
    ],
    [
      "duplicate host data",
      (m) => {
        m.hostData = ["a".repeat(64), "a".repeat(64)];
      },
      [{ path: "hostData[1]", message: "duplicate value" }],
    ],
    [
      "unsorted id key digests",
      (m) => {
        m.idKeyDigests = ["b".repeat(96), "a".repeat(96)];
      },
      [{ path: "idKeyDigests[1]", message: "must be sorted in ascending order" }],
    ],
  ])("%s", (_name, edit, expected) => {
    const bad = withEdit(edit);
    expect(validateManifest(bad)).toEqual(expected);
    expect(problemsOf(() => manifestFromJson(bad))).toEqual(expected);
  });
});
