import { describe, expect, it } from "vitest";
import { verifierPolicy } from "../../components/measurements/verifier-policy.js";
import {
  defaultAttestationPolicy,
  parseAttestationPolicy,
  attestationPolicyFromVerifierPolicy,
} from "../../runtime/attestation/validate/attestation-policy.js";
import { A02_MEASUREMENT, devManifest } from "../helpers/golden.js";

describe("policy JSON", () => {
  it("defaults to AMD roots only, no debug, no migration agent, VMPL 0", () => {
    expect(defaultAttestationPolicy()).toMatchObject({
      allowedRoots: ["amd-milan", "amd-genoa", "amd-turin"],
      allowDebug: false,
      allowMigrationAgent: false,
      maxVmpl: 0,
      minGuestSvn: 0,
      permitProvisionalFirmware: false,
      tcbFloors: {},
    });
  });

  it("reports every problem at once with its field path", () => {
    expect(() =>
      parseAttestationPolicy({
        allowedRoots: ["amd-milan", "intel"],
        maxVmpl: 4,
        measurements: ["AB"],
        tcbFloors: { Rome: {} },
        debug: true,
      }),
    ).toThrow(
      expect.objectContaining({
        code: "POLICY_INVALID",
        message: [
          "invalid attestation policy (5 problems):",
          'policy.allowedRoots[1]: Invalid option: expected one of "amd-milan"|"amd-genoa"|"amd-turin"|"simulated"',
          "policy.debug: unknown key",
          "policy.maxVmpl: Too big: expected number to be <=3",
          "policy.measurements[0]: measurement: 96 lower-case hex characters",
          "policy.tcbFloors.Rome: unknown key",
        ].join("\n"),
        problems: [
          {
            path: "policy.allowedRoots[1]",
            message: 'Invalid option: expected one of "amd-milan"|"amd-genoa"|"amd-turin"|"simulated"',
          },
          { path: "policy.debug", message: "unknown key" },
          { path: "policy.maxVmpl", message: "Too big: expected number to be <=3" },
          { path: "policy.measurements[0]", message: "measurement: 96 lower-case hex characters" },
          { path: "policy.tcbFloors.Rome", message: "unknown key" },
        ],
      }),
    );
  });
});

describe("the stack's verifierPolicy output (components/measurements) as an appraisal policy", () => {
  const settings = {
    allowedRoots: ["amd-genoa", "simulated"],
    allowDebug: false,
    allowMigrationAgent: false,
    requireSmtDisabled: false,
    maxVmpl: 0,
    minGuestSvn: 0,
    collateral: "kds" as const,
    failOpenOnCollateral: false,
  };

  it("keeps the rules and sets the deployment keys aside", () => {
    const p = attestationPolicyFromVerifierPolicy({
      ...verifierPolicy(devManifest(), settings, "-----BEGIN PUBLIC KEY-----\n..."),
    });
    expect(p).toMatchObject({
      allowedRoots: ["amd-genoa", "simulated"],
      measurements: [
        A02_MEASUREMENT,
        "d74bd3ea40b240c3228edc5177ce6193561ebff633dbd0be76d6c143b876d65102425c0e2e8a930857c48daa5eacda58",
      ].sort(),
      allowedPolicyBits: "0x30000",
      tcbFloors: devManifest().tcbFloors,
      maxVmpl: 0,
    });
  });

  it("refuses unknown keys like any policy", () => {
    expect(() =>
      attestationPolicyFromVerifierPolicy({ ...verifierPolicy(devManifest(), settings, "k"), allowEverything: true }),
    ).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
  });
});
