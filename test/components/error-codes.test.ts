import { describe, expect, it } from "vitest";
import { CodedError } from "../../core/errors.js";
import { ComponentError, isComponentError } from "../../components/errors.js";

// The code list, its meanings and docs/errors.md are checked together in test/errors/error-reference.test.ts.
describe("component errors", () => {
  it("keep the code and forward the cause", () => {
    const cause = new Error("inner");
    const error = new ComponentError("HOST_BELOW_TCB_FLOOR", "host x: reported TCB below floor", { cause });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toMatchObject({
      name: "ComponentError",
      code: "HOST_BELOW_TCB_FLOOR",
      message: "host x: reported TCB below floor",
      problems: [],
      cause,
    });
    expect([isComponentError(error, "HOST_BELOW_TCB_FLOOR"), isComponentError(error, "SIGNING_KEY_MISMATCH")]).toEqual([
      true,
      false,
    ]);
  });
});
