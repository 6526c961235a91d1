import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOhttpError, OHTTP_ERROR_CODES, OhttpError } from "../../runtime/ohttp/index.js";

const ROOT = join(__dirname, "../..");

describe("OHTTP error codes: errors.ts, the exported array and docs/ohttp.md agree", () => {
  it("are the same set, in the same order", () => {
    const source = readFileSync(join(ROOT, "runtime/ohttp/errors.ts"), "utf8");
    const array = source.split("OHTTP_ERROR_CODES = [")[1]?.split("] as const")[0] ?? "";
    const fromSource = [...array.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
    const doc = readFileSync(join(ROOT, "docs/ohttp.md"), "utf8");
    const section = doc.split("## Error codes")[1]?.split("\n## ")[0] ?? "";
    const fromDoc = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(fromSource).toEqual([...OHTTP_ERROR_CODES]);
    expect(fromDoc).toEqual([...OHTTP_ERROR_CODES]);
    expect(new Set(OHTTP_ERROR_CODES).size).toBe(OHTTP_ERROR_CODES.length);
  });

  it("errors carry code, path, message and cause", () => {
    const cause = new Error("inner");
    const e = new OhttpError("CHUNK_TRUNCATED", "request.chunk[2]", "stream ended inside a chunk", { cause });
    expect([
      e.name,
      e.code,
      e.path,
      e.message,
      e.cause,
      isOhttpError(e, "CHUNK_TRUNCATED"),
      isOhttpError(e, "BHTTP_MALFORMED"),
    ]).toEqual([
      "OhttpError",
      "CHUNK_TRUNCATED",
      "request.chunk[2]",
      "request.chunk[2]: stream ended inside a chunk",
      cause,
      true,
      false,
    ]);
  });
});
