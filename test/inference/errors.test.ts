import { describe, expect, it } from "vitest";
import { CodedError } from "../../core/errors.js";
import { InferenceError, isInferenceError } from "../../runtime/inference/errors.js";

// The code list, its statuses and meanings and docs/errors.md are checked together in
// test/errors/error-reference.test.ts; the HTTP mapping in test/inference/server.test.ts.
describe("inference errors", () => {
  it("carry code, status, cause and retry hint", () => {
    const cause = new Error("inner");
    const e = new InferenceError("QUEUE_FULL", "full", { cause, retryAfterSeconds: 2 });
    expect([e instanceof CodedError, e.name, e.code, e.status, e.cause, e.retryAfterSeconds, e.message]).toEqual([
      true,
      "InferenceError",
      "QUEUE_FULL",
      503,
      cause,
      2,
      "full",
    ]);
    expect([isInferenceError(e, "QUEUE_FULL"), isInferenceError(e, "INTERNAL"), isInferenceError(cause)]).toEqual([
      true,
      false,
      false,
    ]);
  });
});
