import { describe, expect, it } from "vitest";
import { qemuArgs, renderUnit, systemdQuote, unitName, type GuestLaunch } from "../../components/cvm/unit.js";

const base: GuestLaunch = {
  name: "g1",
  shape: "small",
  firmwarePath: "/s/g1/firmware.fd",
  vcpus: 2,
  vcpuType: "EPYC-v4",
  memoryMiB: 2048,
  policy: "0x30000",
  bridge: "br0",
  checksumsPath: "/s/g1/SHA256SUMS",
};

describe("systemdQuote", () => {
  it.each([
    ["plain", "plain"],
    ["with space", '"with space"'],
    ["", '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ["100%", "100%%"],
    ["$HOME", "$$HOME"],
    ["a\\b", '"a\\\\b"'],
  ])("%j -> %s", (input, expected) => {
    expect(systemdQuote(input)).toBe(expected);
  });
});

describe("qemuArgs", () => {
  it("boots firmware only without kernel-hashes", () => {
    const args = qemuArgs(base);
    expect(args).toContain("sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1");
    expect(args).not.toContain("-kernel");
    expect(args).not.toContain("-append");
    expect(args.slice(args.indexOf("-device"), args.indexOf("-device") + 2)).toEqual([
      "-device",
      "virtio-net-pci,netdev=net0,romfile=",
    ]);
  });

  it("measures direct boot with kernel-hashes and an empty command line when none is given", () => {
    const args = qemuArgs({ ...base, kernelPath: "/s/g1/vmlinuz" });
    expect(args).toContain("sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on");
    expect(args.slice(args.indexOf("-kernel"), args.indexOf("-kernel") + 4)).toEqual([
      "-kernel",
      "/s/g1/vmlinuz",
      "-append",
      "",
    ]);
  });
});

describe("renderUnit", () => {
  it("checks the artifacts before every start and restarts on failure", () => {
    const unit = renderUnit(base);
    expect(unitName("g1")).toBe("ci-guest-g1.service");
    expect(unit.split("\n").filter((l) => /^(ExecStartPre|Restart|WantedBy|Description)=/.test(l))).toEqual([
      "Description=confidential-inference SEV-SNP guest g1 (launch shape small)",
      "ExecStartPre=/usr/bin/sha256sum --check --strict --quiet /s/g1/SHA256SUMS",
      "Restart=on-failure",
      "WantedBy=multi-user.target",
    ]);
  });
});
