/**
 * Errors raised by the Pulumi components at deploy time, when what a host or a key reports does
 * not match what the stack expects. Invalid component arguments are caller misuse and raise
 * `pulumi.InputPropertyError` / `pulumi.InputPropertiesError` instead (see `args.ts`).
 */

/** Every component error code, in documentation order. */
export const COMPONENT_ERROR_CODES = [
  /** The host preflight printed something that is not a valid inventory. */
  "HOST_INVENTORY_INVALID",
  /** The host is a different EPYC generation than the stack says. */
  "HOST_PRODUCT_MISMATCH",
  /** The host's reported TCB is below the stack's TCB floor for its product: patch first. */
  "HOST_BELOW_TCB_FLOOR",
  /** The host's chip id is not in `attestation.chipAllowlist`. */
  "HOST_CHIP_NOT_ALLOWED",
  /** The release signing private key does not match the pinned `golden.publicKey`. */
  "SIGNING_KEY_MISMATCH",
] as const;

/** Stable codes of component failures. */
export type ComponentErrorCode = (typeof COMPONENT_ERROR_CODES)[number];

/** A deploy-time failure of a component, with a stable `code`. */
export class ComponentError extends Error {
  readonly code: ComponentErrorCode;

  constructor(code: ComponentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ComponentError";
    this.code = code;
  }
}
