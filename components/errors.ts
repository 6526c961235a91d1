/**
 * Errors raised by the Pulumi components at deploy time, when what a host or a key reports does
 * not match what the stack expects.
 *
 * Invalid component *arguments* are caller misuse and raise `pulumi.InputPropertyError` /
 * `pulumi.InputPropertiesError` instead (STYLE.md rule 6, see `args.ts`): the Pulumi engine shows
 * those against the resource's `propertyPath`, before any child exists. `ComponentError` is for what
 * only a deploy can find out (a host's inventory, a key's public half), so it has a stable code.
 */
import { CodedError, type CodedErrorOptions } from "../core/index.js";

/** Every component error code, in documentation order. */
export const COMPONENT_ERROR_CODES = [
  "HOST_INVENTORY_INVALID",
  "HOST_PRODUCT_MISMATCH",
  "HOST_BELOW_TCB_FLOOR",
  "HOST_CHIP_NOT_ALLOWED",
  "SIGNING_KEY_MISMATCH",
] as const;

/** Stable codes of component failures. */
export type ComponentErrorCode = (typeof COMPONENT_ERROR_CODES)[number];

/** One line per code: what happened (docs/errors.md is generated from it). */
export const COMPONENT_ERROR_MEANINGS: Readonly<Record<ComponentErrorCode, string>> = {
  HOST_INVENTORY_INVALID:
    "the host preflight printed something that is not a valid inventory (`problems` lists the fields)",
  HOST_PRODUCT_MISMATCH: "the host is a different EPYC generation than `hosts[].product` says",
  HOST_BELOW_TCB_FLOOR:
    "the host's reported TCB is below `attestation.tcbFloors` for its product: patch the host first",
  HOST_CHIP_NOT_ALLOWED: "the host's chip id is not in `attestation.chipAllowlist`",
  SIGNING_KEY_MISMATCH: "the release signing private key does not match the pinned `golden.publicKey`",
};

/** A deploy-time failure of a component, with a stable `code`; `cause` is forwarded. */
export class ComponentError extends CodedError<ComponentErrorCode> {
  constructor(code: ComponentErrorCode, message: string, options: CodedErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True when `e` is a {@link ComponentError} (optionally with the given code). */
export function isComponentError(e: unknown, code?: ComponentErrorCode): e is ComponentError {
  return e instanceof ComponentError && (code === undefined || e.code === code);
}
