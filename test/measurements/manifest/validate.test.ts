import { describe, expect, it } from "vitest";
import { manifestFromJson, validateManifest, type ManifestProblem } from "../../../measurements/manifest/index.js";
import { mutable, withEdit } from "../../helpers/golden.js";
import { INPUTS, problemsOf, SHAPE } from "../../helpers/manifest-problems.js";

describe("validateManifest reports every field path", () => {
  it.each<[string, (m: any) => void, ManifestProblem[]]>([
    [
      "schema version",
      (m) => {
        m.schemaVersion = 2;
      },
      [{ path: "schemaVersion", message: "unsupported schema version (expected 1)" }],
    ],
    [
      "missing release",
      (m) => {
        delete m.release;
      },
      [{ path: "release", message: "required" }],
    ],
    [
      "release with a space",
      (m) => {
        m.release = "2026 11";
      },
      [{ path: "release", message: "must be a release id (letters, digits, '.', '_', '-'; at most 64)" }],
    ],
    [
      "environment",
      (m) => {
        m.environment = "qa";
      },
      [{ path: "environment", message: "must be one of: dev, staging, prod" }],
    ],
    [
      "platform",
      (m) => {
        m.platform = "tdx";
      },
      [{ path: "platform", message: 'must be "sev-snp"' }],
    ],
    [
      "createdAt format",
      (m) => {
        m.createdAt = "2026-11-02T10:00:00.000Z";
      },
      [{ path: "createdAt", message: "must be an ISO 8601 UTC time with second precision (2026-11-02T10:00:00Z)" }],
    ],
    [
      "createdAt not a real time",
      (m) => {
        m.createdAt = "2026-02-30T10:00:00Z";
      },
      [{ path: "createdAt", message: "not a real calendar time" }],
    ],
    [
      "status",
      (m) => {
        m.status = "live";
      },
      [{ path: "status", message: "must be one of: active, pending, retired" }],
    ],
    [
      "no artifacts",
      (m) => {
        m.artifacts = {};
      },
      [{ path: "artifacts", message: "must pin at least one artifact" }],
    ],
    [
      "artifact name",
      (m) => {
        m.artifacts.Kernel = m.artifacts["kernel-dev"];
      },
      [{ path: "artifacts.Kernel", message: "invalid name (lower-case letters, digits, '.', '_', '-'; at most 63)" }],
    ],
    [
      "artifact kind",
      (m) => {
        m.artifacts["classifier-model"].kind = "weights";
      },
      [
        {
          path: "artifacts.classifier-model.kind",
          message: "must be one of: firmware, kernel, initrd, svsm, model, tokenizer",
        },
      ],
    ],
    [
      "artifact digest upper case",
      (m) => {
        m.artifacts["kernel-dev"].sha256 = m.artifacts["kernel-dev"].sha256.toUpperCase();
      },
      [{ path: "artifacts.kernel-dev.sha256", message: "must be a SHA-256 digest: 64 lower-case hex characters" }],
    ],
    [
      "artifact size type",
      (m) => {
        m.artifacts["kernel-dev"].size = "524309";
      },
      [{ path: "artifacts.kernel-dev.size", message: "expected a number, got a string" }],
    ],
    [
      "artifact size fraction",
      (m) => {
        m.artifacts["kernel-dev"].size = 1.5;
      },
      [{ path: "artifacts.kernel-dev.size", message: "expected an integer, got a number" }],
    ],
    [
      "artifact source empty",
      (m) => {
        m.artifacts["kernel-dev"].source = "";
      },
      [{ path: "artifacts.kernel-dev.source", message: "must not be empty" }],
    ],
    [
      "artifact source control character",
      (m) => {
        m.artifacts["kernel-dev"].source = "a\nb";
      },
      [{ path: "artifacts.kernel-dev.source", message: "must be printable text" }],
    ],
    [
      "no launch shapes",
      (m) => {
        m.launchShapes = {};
      },
      [{ path: "launchShapes", message: "must define at least one launch shape" }],
    ],
    [
      "measurement length",
      (m) => {
        m.launchShapes["runtime-small"].measurement = "39765afe";
      },
      [{ path: `${SHAPE}.measurement`, message: "must be a SHA-384 launch measurement: 96 lower-case hex characters" }],
    ],
    [
      "mode",
      (m) => {
        m.launchShapes["runtime-small"].inputs.mode = "sev";
      },
      [{ path: `${INPUTS}.mode`, message: "must be one of: snp, snp:svsm" }],
    ],
    [
      "vcpus zero",
      (m) => {
        m.launchShapes["runtime-small"].inputs.vcpus = 0;
      },
      [{ path: `${INPUTS}.vcpus`, message: "must be between 1 and 512 vCPUs" }],
    ],
    [
      "vcpu type",
      (m) => {
        m.launchShapes["runtime-small"].inputs.vcpuType = "EPYC v4";
      },
      [
        {
          path: `${INPUTS}.vcpuType`,
          message:
            "must be one of: EPYC, EPYC-v1, EPYC-v2, EPYC-v3, EPYC-v4, EPYC-IBPB, EPYC-Rome, EPYC-Rome-v1, EPYC-Rome-v2, EPYC-Rome-v3, EPYC-Rome-v4, EPYC-Milan, EPYC-Milan-v1, EPYC-Milan-v2, EPYC-Genoa, EPYC-Genoa-v1, EPYC-Turin",
        },
      ],
    ],
    [
      "vcpu signature with leading zeros",
      (m) => {
        m.launchShapes["runtime-small"].inputs.vcpuSig = "0x00800f12";
      },
      [
        {
          path: `${INPUTS}.vcpuSig`,
          message: 'must be a 32-bit unsigned integer in canonical hex ("0x" + lower-case digits, no leading zeros)',
        },
      ],
    ],
    [
      "guest features upper case",
      (m) => {
        m.launchShapes["runtime-small"].inputs.guestFeatures = "0X1";
      },
      [
        {
          path: `${INPUTS}.guestFeatures`,
          message: 'must be a 64-bit unsigned integer in canonical hex ("0x" + lower-case digits, no leading zeros)',
        },
      ],
    ],
    [
      "vmm type",
      (m) => {
        m.launchShapes["runtime-small"].inputs.vmmType = "qemu";
      },
      [{ path: `${INPUTS}.vmmType`, message: "must be one of: QEMU, ec2, gce" }],
    ],
    [
      "cmdline control character",
      (m) => {
        m.launchShapes["runtime-small"].inputs.cmdline = "a\u0000b";
      },
      [{ path: `${INPUTS}.cmdline`, message: "must be printable text (no control characters)" }],
    ],
    [
      "cmdline too long",
      (m) => {
        m.launchShapes["runtime-small"].inputs.cmdline = "x".repeat(4096);
      },
      [{ path: `${INPUTS}.cmdline`, message: "kernel command line longer than 4095 bytes" }],
    ],
    [
      "floor SVN above 255",
      (m) => {
        m.tcbFloors.Milan.snp = 256;
      },
      [{ path: "tcbFloors.Milan.snp", message: "must be <= 255" }],
    ],
    [
      "empty chip allowlist",
      (m) => {
        m.chipAllowlist = [];
      },
      [{ path: "chipAllowlist", message: "must not be empty (omit the key to accept any value)" }],
    ],
    [
      "chip id length",
      (m) => {
        m.chipAllowlist = ["ab"];
      },
      [{ path: "chipAllowlist[0]", message: "must be a CHIP_ID: 128 lower-case hex characters" }],
    ],
    [
      "host data length",
      (m) => {
        m.hostData = ["ab"];
      },
      [{ path: "hostData[0]", message: "must be a HOST_DATA value: 64 lower-case hex characters" }],
    ],
    [
      "id key digest length",
      (m) => {
        m.idKeyDigests = ["ab"];
      },
      [{ path: "idKeyDigests[0]", message: "must be an ID_KEY_DIGEST (SHA-384): 96 lower-case hex characters" }],
    ],
  ])("%s", (_name, edit, expected) => {
    const bad = withEdit(edit);
    expect(validateManifest(bad)).toEqual(expected);
    expect(problemsOf(() => manifestFromJson(bad))).toEqual(expected);
  });

  it("reports several problems at once, sorted by path", () => {
    const bad = mutable();
    bad.environment = "qa";
    bad.artifacts["kernel-dev"].sha256 = "x";
    bad.launchShapes["runtime-small"].inputs.vcpus = 1000;
    bad.extra = true;
    expect(validateManifest(bad)).toEqual([
      { path: "artifacts.kernel-dev.sha256", message: "must be a SHA-256 digest: 64 lower-case hex characters" },
      { path: "environment", message: "must be one of: dev, staging, prod" },
      { path: "extra", message: "unknown key" },
      { path: `${INPUTS}.vcpus`, message: "must be between 1 and 512 vCPUs" },
    ]);
  });

  it("accepts a valid snp:svsm shape and sorted allowlists", () => {
    const m = withEdit((x) => {
      x.artifacts.svsm = { kind: "svsm", sha256: "1".repeat(64), size: 1138688, source: "coconut-svsm fixture" };
      x.launchShapes.svsm = {
        inputs: {
          mode: "snp:svsm",
          firmware: "ovmf-amdsev",
          svsm: "svsm",
          varsSize: 540672,
          vcpus: 4,
          vcpuSig: "0x800f12",
          guestFeatures: "0x1",
          vmmType: "QEMU",
          policy: "0x30000",
        },
        measurement: "0".repeat(96),
      };
      x.chipAllowlist = ["a".repeat(128), "b".repeat(128)];
      x.hostData = ["c".repeat(64)];
      x.idKeyDigests = ["d".repeat(96)];
    });
    expect(validateManifest(m)).toEqual([]);
  });
});
