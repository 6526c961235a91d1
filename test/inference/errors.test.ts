import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { INFERENCE_ERROR_CODES, INFERENCE_ERROR_STATUS, InferenceError } from "../../runtime/inference/errors.js";

const readme = readFileSync(join(__dirname, "../../docs/errors.md"), "utf8");
const table = readme.split("<!-- inference-errors:start -->\n")[1]?.split("<!-- inference-errors:end -->")[0] ?? "";
const rows = table
  .split("\n")
  .filter((l) => l.startsWith("| `"))
  .map((l) => l.split("|").map((c) => c.trim()));

describe("inference error codes", () => {
  it("are the same set in errors.ts, the exported array and the README table, with the same statuses", () => {
    const source = readFileSync(join(__dirname, "../../runtime/inference/errors.ts"), "utf8");
    const union = [
      ...source
        .split("export type InferenceErrorCode =")[1]!
        .split(";")[0]!
        .matchAll(/"([A-Z_]+)"/g),
    ].map((m) => m[1]);
    expect(INFERENCE_ERROR_CODES).toEqual(union);
    expect(rows.map((r) => r[1]!.replace(/`/g, ""))).toEqual(union);
    for (const r of rows) {
      const code = r[1]!.replace(/`/g, "") as keyof typeof INFERENCE_ERROR_STATUS;
      expect([code, r[2] === "boot" ? 500 : Number(r[2])]).toEqual([code, INFERENCE_ERROR_STATUS[code]]);
    }
  });

  it("carry code, status, cause and retry hint", () => {
    const cause = new Error("inner");
    const e = new InferenceError("QUEUE_FULL", "full", { cause, retryAfterSeconds: 2 });
    expect([e.name, e.code, e.status, e.cause, e.retryAfterSeconds, e.message]).toEqual([
      "InferenceError",
      "QUEUE_FULL",
      503,
      cause,
      2,
      "full",
    ]);
  });
});
