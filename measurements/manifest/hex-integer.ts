/** A zod primitive shared by the golden config and the stack config schema. */
import { z } from "zod";

/** An unsigned integer written as a hex string (`0x...`) or a plain JSON number, parsed to bigint. */
export function hexInteger(maxBits: number) {
  const max = (1n << BigInt(maxBits)) - 1n;
  const message = `must be an unsigned integer up to ${maxBits} bits (e.g. "0x1")`;
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    let parsed: bigint | undefined;
    if (typeof value === "number") {
      if (Number.isSafeInteger(value) && value >= 0) parsed = BigInt(value);
    } else if (/^0x[0-9a-fA-F]{1,16}$/.test(value) || /^[0-9]{1,20}$/.test(value)) {
      parsed = BigInt(value);
    }
    if (parsed === undefined || parsed > max) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return parsed;
  });
}
