/**
 * The lower layer's P-384 JWK checks (`core/ec-jwk.ts`) under the broker's public error code: core
 * raises `JWK_INVALID` with every problem and its field path; the broker's code for a JWK that is
 * not a P-384 public key on the curve is `TEE_KEY_INVALID` (HTTP 400), problems in `details.problems`.
 */
import { isCoreError } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";

/**
 * Runs a JWK check of `core` and re-raises its `JWK_INVALID` as `TEE_KEY_INVALID` (same message,
 * problems and cause); other errors pass unchanged.
 * @example const point = teeKeyCheck(() => checkedPointFromJwk(jwk, "runtime-data.tee-pubkey"));
 */
export function teeKeyCheck<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!isCoreError(e, "JWK_INVALID")) throw e;
    throw new KeyBrokerError("TEE_KEY_INVALID", e.message, { cause: e, problems: e.problems });
  }
}
