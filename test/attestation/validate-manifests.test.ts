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

  describe("a launch shape that binds HOST_DATA (a Kata pod's initdata digest)", () => {
    const bound = (hostData: string) =>
      withEdit((m) => {
        m.launchShapes["runtime-small"].hostData = hostData;
      });
    it("admits a guest carrying that HOST_DATA", async () => {
      expect(
        codes(await simulated({ hostData: "ab".repeat(32) }), {}, { manifests: [bound("ab".repeat(32))] }),
      ).toEqual([]);
    });
    it("refuses a guest with another HOST_DATA (another workload in the same Kata guest), naming the shape", async () => {
      const v = validateSnpReport({
        evidence: await simulated({ hostData: "cd".repeat(32) }),
        policy: defaultAttestationPolicy(),
        manifests: [bound("ab".repeat(32))],
        expectedReportData: BINDING,
        now: NOW,
      });
      expect(v.failures).toEqual([
        {
          code: "HOST_DATA_MISMATCH",
          path: "report.hostData",
          message: `HOST_DATA is ${"cd".repeat(32)}; launch shape runtime-small binds ${"ab".repeat(32)} (the initdata digest of its workload)`,
        },
      ]);
    });
    it("refuses a guest launched without initdata (HOST_DATA all zero)", async () => {
      expect(
        codes(await simulated({ hostData: "00".repeat(32) }), {}, { manifests: [bound("ab".repeat(32))] }),
      ).toEqual(["HOST_DATA_MISMATCH report.hostData"]);
    });
    it("admits either binding when the measurement is in two shapes that bind different workloads", async () => {
      const two = withEdit((m) => {
        m.launchShapes["runtime-small"].hostData = "ab".repeat(32);
        m.launchShapes["runtime-other"] = { ...m.launchShapes["runtime-small"], hostData: "cd".repeat(32) };
      });
      expect(codes(await simulated({ hostData: "cd".repeat(32) }), {}, { manifests: [two] })).toEqual([]);
      expect(codes(await simulated({ hostData: "ef".repeat(32) }), {}, { manifests: [two] })).toEqual([
        "HOST_DATA_MISMATCH report.hostData",
      ]);
    });
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
