import { describe, expect, it } from "vitest";
import { defaultAttestationPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { validateSnpReport } from "../../runtime/attestation/validate/validate.js";
import { devManifest, withEdit } from "../helpers/golden.js";
import { BINDING, codes, NOW, simulated } from "../helpers/validate-report.js";

describe("validateSnpReport with golden manifests", () => {
  const active = devManifest();
  const pending = withEdit((m) => {
    m.release = "2026.12.0-dev";
    m.status = "pending";
    m.launchShapes["runtime-small"].measurement = "22".repeat(48);
  });
  const retired = withEdit((m) => {
    m.release = "2026.10.0-dev";
    m.status = "retired";
    m.launchShapes["runtime-small"].measurement = "33".repeat(48);
  });
  const manifests = [active, pending, retired];

  it.each([
    ["measurement in the active manifest", {}, [active], []],
    [
      "measurement only in a pending manifest",
      { measurement: "22".repeat(48) },
      manifests,
      ["MEASUREMENT_NOT_ALLOWED report.measurement"],
    ],
    [
      "measurement only in a retired manifest",
      { measurement: "33".repeat(48) },
      manifests,
      ["MEASUREMENT_NOT_ALLOWED report.measurement"],
    ],
    [
      "measurement in no manifest",
      { measurement: "44".repeat(48) },
      manifests,
      ["MEASUREMENT_NOT_ALLOWED report.measurement"],
    ],
    [
      "below the manifest's Milan floor",
      { reportedTcb: { bootloader: 4, tee: 0, snp: 23, microcode: 219 } },
      [active],
      ["TCB_BELOW_FLOOR report.reportedTcb.snp"],
    ],
    [
      "policy bit the manifest does not allow (single socket)",
      { policy: { smt: true, singleSocket: true } },
      [active],
      ["GUEST_POLICY report.policy"],
    ],
    [
      "host data not in the manifest's list",
      { hostData: "01".repeat(32) },
      [
        withEdit((m) => {
          m.hostData = ["02".repeat(32)];
        }),
      ],
      ["HOST_DATA_MISMATCH report.hostData"],
    ],
    [
      "id key not in the manifest's list",
      {},
      [
        withEdit((m) => {
          m.idKeyDigests = ["02".repeat(48)];
        }),
      ],
      ["ID_KEY_NOT_TRUSTED report.idKeyDigest"],
    ],
    [
      "chip not in the manifest's allowlist",
      {},
      [
        withEdit((m) => {
          m.chipAllowlist = ["02".repeat(64)];
        }),
      ],
      ["CHIP_NOT_ALLOWED report.chipId"],
    ],
  ] as const)("%s", async (_name, input, ms, expected) => {
    expect(codes(await simulated(input), {}, { manifests: ms })).toEqual(expected);
  });

  it("names the matching active release", async () => {
    const v = validateSnpReport({
      evidence: await simulated(),
      policy: defaultAttestationPolicy(),
      manifests,
      expectedReportData: BINDING,
      now: NOW,
    });
    expect(v.matches.map((m) => [m.manifest.release, m.shape, m.status])).toEqual([
      ["2026.11.0-dev", "runtime-small", "active"],
    ]);
  });
});
