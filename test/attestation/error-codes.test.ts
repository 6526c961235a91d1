import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ATTESTATION_ERROR_CODES, AttestationError, isAttestationError } from "../../runtime/attestation/errors.js";

const ROOT = join(__dirname, "../..");

describe("attestation error codes: errors.ts, the exported array and the README agree", () => {
  it("the union in errors.ts, the exported array and the README table are the same set", () => {
    const source = readFileSync(join(ROOT, "runtime/attestation/errors.ts"), "utf8");
    const array = source.split("ATTESTATION_ERROR_CODES = [")[1]?.split("] as const")[0] ?? "";
    const fromSource = [...array.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
    const readme = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
    const section = readme.split("### Error codes (`runtime/attestation/errors.ts`)")[1]?.split("\n## ")[0] ?? "";
    const fromReadme = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(fromSource).toEqual([...ATTESTATION_ERROR_CODES]);
    expect(fromReadme).toEqual([...ATTESTATION_ERROR_CODES]);
    expect(new Set(ATTESTATION_ERROR_CODES).size).toBe(ATTESTATION_ERROR_CODES.length);
  });

  it("errors carry code, path and cause", () => {
    const cause = new Error("inner");
    const e = new AttestationError("TCB_MISMATCH", "binding: x", { path: "report.reportedTcb.snp", cause });
    expect([
      e.name,
      e.code,
      e.path,
      e.cause,
      isAttestationError(e, "TCB_MISMATCH"),
      isAttestationError(e, "VMPL"),
      isAttestationError(cause),
    ]).toEqual(["AttestationError", "TCB_MISMATCH", "report.reportedTcb.snp", cause, true, false, false]);
  });
});
