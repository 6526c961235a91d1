import { describe, expect, it } from "vitest";
import {
  ManifestError,
  canonicalManifestBytes,
  formatManifest,
  manifestFromJson,
  parseManifest,
  validateManifest,
  type ManifestProblem,
} from "../../../measurements/manifest/index.js";
import { devManifest, mutable, withEdit } from "../../helpers/golden.js";

function problemsOf(fn: () => unknown): readonly ManifestProblem[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).problems;
  }
  throw new Error("expected a ManifestError");
}

describe("parseManifest", () => {
  it("round-trips through the file form and the canonical bytes", () => {
    const m = devManifest();
    expect(validateManifest(m)).toEqual([]);
    expect(parseManifest(formatManifest(m))).toEqual(m);
    expect(parseManifest(canonicalManifestBytes(m))).toEqual(m);
    expect(formatManifest(parseManifest(formatManifest(m)))).toBe(formatManifest(m));
  });

  it.each([
    ["not JSON", "{", "MANIFEST_MALFORMED"],
    ["a byte-order mark", "\ufeff{}", "MANIFEST_MALFORMED"],
    ["a JSON array", "[]", "MANIFEST_INVALID"],
  ])("refuses %s", (_name, text, code) => {
    expect(() => parseManifest(text)).toThrow(expect.objectContaining({ code }));
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ code: "MANIFEST_MALFORMED", message: "reading golden manifest: not valid UTF-8" }),
    );
  });

  it("refuses a non-string, non-bytes argument with a TypeError", () => {
    expect(() => parseManifest({} as unknown as string)).toThrow(TypeError);
  });

  it("lists every problem in the error message, one per line", () => {
    const bad = withEdit((m) => {
      m.release = "";
      m.artifacts["kernel-dev"].size = 0;
    });
    expect(() => manifestFromJson(bad)).toThrow(
      "invalid golden manifest (2 problems):\nartifacts.kernel-dev.size: must be a positive size in bytes\nrelease: must be a release id (letters, digits, '.', '_', '-'; at most 64)",
    );
  });
});

describe("strict parse: unknown keys are rejected at every level", () => {
  it.each([
    [
      "root",
      (m: any) => {
        m.signature = "x";
      },
      "signature",
    ],
    [
      "artifact",
      (m: any) => {
        m.artifacts["kernel-dev"].url = "x";
      },
      "artifacts.kernel-dev.url",
    ],
    [
      "launch shape",
      (m: any) => {
        m.launchShapes["runtime-small"].memoryMiB = 4096;
      },
      "launchShapes.runtime-small.memoryMiB",
    ],
    [
      "launch inputs",
      (m: any) => {
        m.launchShapes["runtime-small"].inputs.append = "x";
      },
      "launchShapes.runtime-small.inputs.append",
    ],
    [
      "TCB floor",
      (m: any) => {
        m.tcbFloors.Milan.ucode = 1;
      },
      "tcbFloors.Milan.ucode",
    ],
  ])("%s", (_level, edit, path) => {
    expect(problemsOf(() => manifestFromJson(withEdit(edit)))).toEqual([{ path, message: "unknown key" }]);
  });

  it("rejects a product without a TCB floor schema", () => {
    expect(
      validateManifest(
        withEdit((m) => {
          m.tcbFloors.Rome = { bootloader: 0, tee: 0, snp: 0, microcode: 0 };
        }),
      ),
    ).toEqual([{ path: "tcbFloors.Rome", message: "unknown key" }]);
  });
});

const SHAPE = "launchShapes.runtime-small";
const INPUTS = `${SHAPE}.inputs`;

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
    // cross-field rules
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
