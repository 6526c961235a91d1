import { describe, expect, it } from "vitest";
import { checkInventory, parseInventory, type HostInventory } from "../../components/host/inventory.js";
import { ComponentError } from "../../components/errors.js";

const GENOA = {
  schema: 1,
  product: "Genoa",
  cpu: { vendor: "AuthenticAMD", family: 25, model: 17, modelName: "AMD EPYC 9454" },
  kernel: "6.12",
  chipId: "ab".repeat(64),
  firmware: { version: "1.55" },
  reportedTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
  platformTcb: { bootloader: 10, tee: 0, snp: 24, microcode: 84 },
  iommuGroups: 4,
};

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ComponentError);
    return `${(e as ComponentError).code}: ${(e as ComponentError).message}`;
  }
  return "no error";
}

describe("parseInventory", () => {
  it("parses a preflight line and pads a Turin chip id to the report's 64 bytes", () => {
    const { schema: _schema, ...expected } = GENOA;
    expect(parseInventory("h", JSON.stringify(GENOA))).toEqual(expected);
    const turin = {
      ...GENOA,
      product: "Turin",
      chipId: "c8c9cacbcccdcecf",
      reportedTcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
    };
    expect(parseInventory("h", JSON.stringify(turin)).chipId).toBe(`c8c9cacbcccdcecf${"0".repeat(112)}`);
  });

  it.each([
    ["not JSON", "preflight: ok", "HOST_INVENTORY_INVALID: host h1: the preflight did not print JSON"],
    [
      "a wrong product",
      JSON.stringify({ ...GENOA, product: "Rome" }),
      "HOST_INVENTORY_INVALID: host h1: invalid inventory field(s): product",
    ],
    [
      "an extra field and a bad TCB",
      JSON.stringify({ ...GENOA, extra: 1, reportedTcb: { ...GENOA.reportedTcb, snp: 300 } }),
      "HOST_INVENTORY_INVALID: host h1: invalid inventory field(s): extra, reportedTcb.snp",
    ],
  ])("refuses %s", (_n, stdout, expected) => {
    expect(code(() => parseInventory("h1", stdout))).toBe(expected);
  });
});

describe("checkInventory", () => {
  const inv = GENOA as HostInventory;
  it.each([
    [
      "the expected host",
      {
        product: "Genoa" as const,
        tcbFloor: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
        chipAllowlist: ["ab".repeat(64)],
      },
      "no error",
    ],
    [
      "another product",
      { product: "Milan" as const },
      "HOST_PRODUCT_MISMATCH: host h1: the stack says Milan but the host is Genoa",
    ],
    [
      "a TCB below the floor",
      { product: "Genoa" as const, tcbFloor: { bootloader: 10, tee: 0, snp: 25, microcode: 84 } },
      "HOST_BELOW_TCB_FLOOR: host h1: reported TCB bl=10 tee=0 snp=23 ucode=84 is below the Genoa floor bl=10 tee=0 snp=25 ucode=84: update the host firmware before deploying guests",
    ],
    [
      "a chip outside the allowlist",
      { product: "Genoa" as const, chipAllowlist: ["cd".repeat(64)] },
      "HOST_CHIP_NOT_ALLOWED: host h1: chip abababababababab... is not in attestation.chipAllowlist",
    ],
  ])("%s", (_n, required, expected) => {
    expect(code(() => checkInventory("h1", inv, required))).toBe(expected);
  });
});
