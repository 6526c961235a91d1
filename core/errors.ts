/**
 * The one error base of the project. Every module's error class extends {@link CodedError} and
 * declares its codes in its `errors.ts` as a `const` tuple, the string union of it and a one-line
 * meaning per code (STYLE.md rule 8; `docs/errors.md` is generated from them by
 * `npx tsx scripts/error-reference.ts`). Modules that answer over HTTP add a status per code
 * (`X_ERROR_STATUS`) and map errors with `runtime/http`.
 *
 * @example
 * export const WIDGET_ERROR_CODES = ["WIDGET_INVALID", "WIDGET_MISSING"] as const;
 * export type WidgetErrorCode = (typeof WIDGET_ERROR_CODES)[number];
 * export const WIDGET_ERROR_MEANINGS: Readonly<Record<WidgetErrorCode, string>> = {
 *   WIDGET_INVALID: "the widget file does not fit the schema; `problems` lists every field path",
 *   WIDGET_MISSING: "no widget with that name",
 * };
 * export class WidgetError extends CodedError<WidgetErrorCode> {}
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

/**
 * The subset of a zod issue the translator reads (keeps this module free of a zod import). `keys`
 * comes with `unrecognized_keys` issues, `issues` with `invalid_key` issues (a record key that
 * failed its own schema).
 */
export interface SchemaIssue {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
  readonly issues?: readonly { readonly message: string }[];
}

/** How {@link problemsFromIssues} names paths and words messages. */
export interface ProblemsFromIssuesOptions {
  /** Path prepended to every issue (`keyBroker` -> `keyBroker.url`, `policy` -> `policy[0]`); absent means none. */
  readonly prefix?: string;
  /** Path of an issue about the whole value when there is no prefix; default `(root)` (`""` is allowed). */
  readonly root?: string;
  /** Message of each key an `unrecognized_keys` issue names (one problem per key); default `unknown key`. */
  readonly unknownKey?: string;
  /** Message of an `invalid_key` issue; default the nested issue's message, else the issue's own. */
  readonly invalidKey?: string;
}

/** Renders a schema path (`["hosts", 1, "address"]`) as `hosts[1].address`; `""` for the empty path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Translates schema issues (zod's `error.issues`) into problems with dotted field paths, sorted by
 * path then message so reports are stable. An `unrecognized_keys` issue becomes one problem per
 * unknown key, at that key's own path.
 *
 * @example problemsFromIssues(result.error.issues, { prefix: "body" })
 * // [{ path: "body.inputs[0].shape", message: "Invalid input: expected array, received string" }]
 */
export function problemsFromIssues(issues: readonly SchemaIssue[], options: ProblemsFromIssuesOptions = {}): Problem[] {
  const at = (path: readonly PropertyKey[]): string => {
    const joined = fieldPath(path);
    if (options.prefix === undefined) return joined === "" ? (options.root ?? "(root)") : joined;
    if (joined === "") return options.prefix;
    return joined.startsWith("[") ? options.prefix + joined : `${options.prefix}.${joined}`;
  };
  const problems = issues.flatMap((issue): Problem[] => {
    if (issue.code === "unrecognized_keys" && issue.keys !== undefined && issue.keys.length > 0)
      return issue.keys.map((key) => ({
        path: at([...issue.path, key]),
        message: options.unknownKey ?? "unknown key",
      }));
    if (issue.code === "invalid_key")
      return [{ path: at(issue.path), message: options.invalidKey ?? issue.issues?.[0]?.message ?? issue.message }];
    return [{ path: at(issue.path), message: issue.message }];
  });
  return sortProblems(problems);
}

/** Sorts problems by path, then message (code-unit order, so reports are the same everywhere). */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => (a.path === b.path ? cmp(a.message, b.message) : cmp(a.path, b.path)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `path: message; path: message` for an error message (`separator` between problems; default `; `). */
export function formatProblems(problems: readonly Problem[], separator = "; "): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join(separator);
}

/** `1 problem`, `3 problems`: the count that heads a validation message. */
export function problemCount(problems: readonly unknown[]): string {
  return `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
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
