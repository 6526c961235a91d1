/**
 * A memoising wrapper for the launch-digest calculator: a fleet has many guests of few shapes, and
 * the digest hashes every firmware page, so each distinct (firmware bytes, shape, kernel, initrd)
 * is computed once per program run. Pure apart from its cache.
 */
import { createHash } from "node:crypto";
import type { LaunchDigestCalculator, LaunchDigestRequest } from "../../measurements/manifest/index.js";

function keyOf(request: LaunchDigestRequest, digestOf: (bytes: Uint8Array) => string): string {
  const shape = Object.fromEntries(
    Object.entries(request.shape).map(([k, v]) => [k, typeof v === "bigint" ? `0x${v.toString(16)}` : v]),
  );
  return JSON.stringify({
    shape,
    firmware: digestOf(request.firmware),
    svsm: request.svsm === undefined ? null : digestOf(request.svsm),
    kernel: request.kernelSha256 ?? null,
    initrd: request.initrdSha256 ?? null,
  });
}

/**
 * Wraps `calculator` so identical requests are computed once. Image bytes are identified by their
 * SHA-256 (computed once per array).
 * @example const measure = memoizeCalculator(snpLaunchDigest); // share it between GoldenMeasurements and every ConfidentialVm
 */
export function memoizeCalculator(calculator: LaunchDigestCalculator): LaunchDigestCalculator {
  const results = new Map<string, ReturnType<LaunchDigestCalculator>>();
  const digests = new WeakMap<Uint8Array, string>();
  const digestOf = (bytes: Uint8Array): string => {
    let d = digests.get(bytes);
    if (d === undefined) {
      d = createHash("sha256").update(bytes).digest("hex");
      digests.set(bytes, d);
    }
    return d;
  };
  return (request) => {
    const key = keyOf(request, digestOf);
    let result = results.get(key);
    if (result === undefined) {
      result = calculator(request);
      results.set(key, result);
    }
    return result;
  };
}
