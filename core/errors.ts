/**
 * The one error base of the project. Every module's error class extends {@link CodedError} and
 * declares its codes as a `const` tuple plus a string union (STYLE.md rule 8):
 *
 * @example
 * export const WIDGET_ERROR_CODES = ["WIDGET_INVALID", "WIDGET_MISSING"] as const;
 * export type WidgetErrorCode = (typeof WIDGET_ERROR_CODES)[number];
 * export class WidgetError extends CodedError<WidgetErrorCode> {
 *   override readonly name = "WidgetError";
 * }
 * throw new WidgetError("WIDGET_INVALID", "widget.size: must be positive", { problems });
 *
 * Untrusted bad input raises a domain error with a stable `code`; caller misuse raises `TypeError`.
 * Messages and problems never carry secrets (keys, PINs, prompts, report data).
 */

/** One problem found while validating input, with the field path it concerns (`tcb.snp`, `body.inputs[0]`). */
export interface Problem {
  /** Dotted field path; `(root)` or a caller-chosen word when the whole value is at fault. */
  readonly path: string;
  readonly message: string;
}

/** Options shared by every coded error. */
export interface CodedErrorOptions {
  /** The underlying failure (forwarded as `Error.cause`). */
  readonly cause?: unknown;
  /** Every problem found, each with its field path (validation reports everything at once). */
  readonly problems?: readonly Problem[];
}

/** A failure with a stable, public `code` drawn from a string union `C`. */
export class CodedError<C extends string = string> extends Error {
  /** Stable reason code (public API: renames are listed in CHANGELOG.md). */
  readonly code: C;
  /** Every problem found, with field paths; empty when the error is not about input fields. */
  readonly problems: readonly Problem[];

  constructor(code: C, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.problems = options.problems ?? [];
  }
}

/** True when `e` is a {@link CodedError} of any module. */
export function isCodedError(e: unknown): e is CodedError {
  return e instanceof CodedError;
}

/** The subset of a zod issue the translator reads (keeps this module free of a zod import). */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Translates schema issues (zod's `error.issues`) into problems with dotted field paths, sorted by
 * path then message so reports are stable.
 *
 * @param prefix path prepended to every issue (`keyBroker` -> `keyBroker.url`); `root` names the whole value.
 * @example problemsFromIssues(result.error.issues, { prefix: "body" })
 */
export function problemsFromIssues(
  issues: readonly SchemaIssue[],
  options: { readonly prefix?: string; readonly root?: string } = {},
): Problem[] {
  const problems = issues.map((issue) => {
    const parts = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)));
    const joined = parts.reduce((acc, p) => (p.startsWith("[") || acc === "" ? acc + p : `${acc}.${p}`), "");
    const path =
      options.prefix === undefined
        ? joined || (options.root ?? "(root)")
        : joined === ""
          ? options.prefix
          : joined.startsWith("[")
            ? options.prefix + joined
            : `${options.prefix}.${joined}`;
    return { path, message: issue.message };
  });
  return problems.sort((a, b) => (a.path === b.path ? cmp(a.message, b.message) : cmp(a.path, b.path)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `path: message; path: message` for an error message. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("; ");
}

/** Every code of the lower layer's own error, {@link CoreError}. */
export const CORE_ERROR_CODES = [
  // DER reader (core/der.ts): bytes that are not the DER element asked for
  "DER_MALFORMED",
  // X.509 parser (core/x509/certificate.ts): not a well-formed X.509 v3 certificate
  "CERTIFICATE_MALFORMED",
  // EC/JWK helpers (core/ec-jwk.ts): not a P-384 public JWK whose point is on the curve
  "JWK_INVALID",
] as const;

/** Stable code of a {@link CoreError}. */
export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/**
 * Refusal of untrusted bytes by the lower layer (`core/`). `core/` imports nothing outside itself,
 * so modules whose public codes differ translate at their boundary (the verifier re-raises
 * `CERTIFICATE_MALFORMED`/`DER_MALFORMED` as its `CERTIFICATE_MALFORMED`, the key broker
 * `JWK_INVALID` as `TEE_KEY_INVALID`).
 */
export class CoreError extends CodedError<CoreErrorCode> {}

/** True when `e` is a {@link CoreError}, optionally with the given code. */
export function isCoreError(e: unknown, code?: CoreErrorCode): e is CoreError {
  return e instanceof CoreError && (code === undefined || e.code === code);
}
