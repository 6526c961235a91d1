import { describe, expect, it } from "vitest";
import { CodedError } from "../../core/errors.js";
import { AttestationError, isAttestationError } from "../../runtime/attestation/errors.js";

// The code list, its meanings and docs/errors.md are checked together in test/errors/error-reference.test.ts.
describe("attestation errors", () => {
  it("carry code, path, problems and cause", () => {
    const cause = new Error("inner");
    const e = new AttestationError("TCB_MISMATCH", "binding: x", { path: "report.reportedTcb.snp", cause });
    expect([
      e instanceof CodedError,
      e.name,
      e.code,
      e.path,
      e.problems,
      e.cause,
      isAttestationError(e, "TCB_MISMATCH"),
      isAttestationError(e, "VMPL"),
      isAttestationError(cause),
    ]).toEqual([true, "AttestationError", "TCB_MISMATCH", "report.reportedTcb.snp", [], cause, true, false, false]);
  });
});
