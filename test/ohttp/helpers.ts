/** Test helpers for the OHTTP codec tests. */
import { isOhttpError } from "../../runtime/ohttp/index.js";

/** Bytes of a hex string (whitespace ignored). */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
}

/** Hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** The `code` and `path` of the OhttpError a sync or async call throws; fails the test when it does not throw one. */
export async function errorOf(fn: () => unknown): Promise<{ code: string; path: string }> {
  try {
    await fn();
  } catch (e) {
    if (isOhttpError(e)) return { code: e.code, path: e.path };
    throw e;
  }
  throw new Error("expected an OhttpError, nothing was thrown");
}
