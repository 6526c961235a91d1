import { describe, expect, it } from "vitest";
import {
  canonicalManifestBytes,
  formatManifest,
  manifestFromJson,
  parseManifest,
  validateManifest,
} from "../../../measurements/manifest/index.js";
import { devManifest, withEdit } from "../../helpers/golden.js";
import { problemsOf } from "../../helpers/manifest-problems.js";

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

  it("keeps a launch shape's HOST_DATA binding and refuses one that is not 64 lower-case hex", () => {
    const bound = withEdit((m) => {
      m.launchShapes["runtime-small"].hostData = "ab".repeat(32);
    });
    expect(validateManifest(bound)).toEqual([]);
    expect(parseManifest(canonicalManifestBytes(bound)).launchShapes["runtime-small"]?.hostData).toBe("ab".repeat(32));
    const bad = problemsOf(() =>
      manifestFromJson(
        withEdit((m) => {
          m.launchShapes["runtime-small"].hostData = "AB".repeat(32);
        }),
      ),
    );
    expect(bad.map((p) => p.path)).toEqual(["launchShapes.runtime-small.hostData"]);
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
