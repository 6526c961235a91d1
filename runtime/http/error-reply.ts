/**
 * One mapping from anything thrown while handling a request to a status, a stable code and a message a
 * client may see, shared by the three Fastify apps (key broker, inference runtime, gateway). Each app gives
 * a table; only its own error class keeps its code and message, Fastify's failures become the app's codes
 * in one place, and anything else becomes `INTERNAL` with a fixed message (foreign messages may quote input).
 */
import { type CodedError, formatProblems, type Problem } from "../../core/index.js";

/** The code of every unrecognised failure; always status 500 with {@link INTERNAL_MESSAGE}. */
export const INTERNAL = "INTERNAL";

/** The only message an unrecognised failure shows. */
export const INTERNAL_MESSAGE = "internal error";

/** Fastify's own failures an app maps to its codes (codes from fastify's `lib/errors.js`). */
export const FASTIFY_FAILURES = [
  "FST_ERR_CTP_BODY_TOO_LARGE",
  "FST_ERR_CTP_INVALID_MEDIA_TYPE",
  "FST_ERR_CTP_INVALID_CONTENT_LENGTH",
  "FST_ERR_CTP_EMPTY_JSON_BODY",
  "FST_ERR_CTP_INVALID_JSON_BODY",
] as const;

/** One of {@link FASTIFY_FAILURES}. */
export type FastifyFailure = (typeof FASTIFY_FAILURES)[number];

/** A code with the fixed message (and, optionally, field-path problems) sent for it. */
export interface HttpReason<C extends string> {
  readonly code: C;
  readonly message: string;
  readonly problems?: readonly Problem[];
}

/** A route-schema validation failure (Fastify's `FST_ERR_VALIDATION`), with one problem per schema error. */
export interface ValidationFailure {
  /** `body`, `params`, `querystring` or `headers`. */
  readonly context: string;
  /** Fastify's own summary (`body must be object`); never quotes values. */
  readonly message: string;
  /** Paths like `body.inputs.0.shape` (context, then the JSON pointer with `/` read as `.`). */
  readonly problems: readonly Problem[];
}

/** How one app maps errors: its error class, a status per code, and its codes for Fastify's failures. */
export interface HttpErrorTable<C extends string> {
  /** The app's error class; only its instances keep their code, message and problems. */
  readonly errorClass: abstract new (...args: never[]) => CodedError<C>;
  /** HTTP status of each of the app's codes. */
  readonly status: Readonly<Record<C, number>>;
  /** Fastify's failures; one absent from the table becomes `INTERNAL`. */
  readonly fastify: Readonly<Partial<Record<FastifyFailure, HttpReason<C>>>>;
  /** A route-schema validation failure; absent means `INTERNAL`. */
  readonly validation?: (failure: ValidationFailure) => HttpReason<C>;
  /** Any other error with `statusCode` 400 (Fastify's), or a `SyntaxError` (a body parser's); absent means `INTERNAL`. */
  readonly badRequest?: HttpReason<C>;
  /** What an unknown route gets. */
  readonly notFound: HttpReason<C>;
}

/** What a client is sent for a failure (before the app shapes its body). */
export interface HttpErrorReply<C extends string> {
  readonly status: number;
  readonly code: C | typeof INTERNAL;
  /** Safe to show: the app's own message, a fixed framework message, or {@link INTERNAL_MESSAGE}. */
  readonly message: string;
  /** Field-path problems (empty when the failure is not about input fields). */
  readonly problems: readonly Problem[];
  /** Seconds for `Retry-After`, when the error carries a retry hint. */
  readonly retryAfterSeconds?: number;
  /** The app's own error, when it was one (for app-specific fields such as a drift class). */
  readonly error?: CodedError<C>;
  /** True when nothing recognised the failure (the app logs it; the client sees {@link INTERNAL_MESSAGE}). */
  readonly unrecognised: boolean;
}

interface FastifyLike {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
  readonly validation?: readonly { readonly instancePath?: string; readonly message?: string }[];
  readonly validationContext?: string;
}

/** Reads Fastify's schema-validation details from an error, or undefined when it is not one. */
export function validationFailureOf(err: unknown): ValidationFailure | undefined {
  const e = err as FastifyLike | null | undefined;
  if (!e || typeof e !== "object" || !Array.isArray(e.validation)) return undefined;
  const context = e.validationContext ?? "body";
  return {
    context,
    message: typeof e.message === "string" ? e.message : "invalid request",
    problems: e.validation.map((v) => ({
      path: `${context}${(v.instancePath ?? "").replace(/\//g, ".")}`,
      message: v.message ?? "invalid",
    })),
  };
}

/** The reply for an unknown route. */
export function notFoundReply<C extends string>(table: HttpErrorTable<C>): HttpErrorReply<C> {
  return fromReason(table, table.notFound);
}

/**
 * Maps anything thrown while handling a request to what the client is sent.
 *
 * @example
 * httpErrorReply(table, new InferenceError("QUEUE_FULL", "queue full", { retryAfterSeconds: 1 }))
 * // { status: 503, code: "QUEUE_FULL", message: "queue full", problems: [], retryAfterSeconds: 1, error, unrecognised: false }
 * httpErrorReply(table, new Error("SELECT * FROM secrets")) // { status: 500, code: "INTERNAL", message: "internal error", ... }
 */
export function httpErrorReply<C extends string>(table: HttpErrorTable<C>, err: unknown): HttpErrorReply<C> {
  if (err instanceof table.errorClass) {
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return {
      status: table.status[err.code],
      code: err.code,
      message: err.message,
      problems: err.problems,
      ...(typeof retry === "number" ? { retryAfterSeconds: retry } : {}),
      error: err,
      unrecognised: false,
    };
  }
  const validation = validationFailureOf(err);
  if (validation !== undefined)
    return table.validation ? fromReason(table, table.validation(validation)) : internalReply();
  const code = (err as FastifyLike | null | undefined)?.code;
  const mapped = typeof code === "string" ? table.fastify[code as FastifyFailure] : undefined;
  if (mapped) return fromReason(table, mapped);
  const badRequest = err instanceof SyntaxError || (err as FastifyLike | null | undefined)?.statusCode === 400;
  if (badRequest && table.badRequest) return fromReason(table, table.badRequest);
  return internalReply();
}

/** `path: message; ...` of a validation failure's problems (the wording the OIP apps send). */
export function validationMessage(failure: ValidationFailure): string {
  return formatProblems(failure.problems);
}

function fromReason<C extends string>(table: HttpErrorTable<C>, reason: HttpReason<C>): HttpErrorReply<C> {
  return {
    status: table.status[reason.code],
    code: reason.code,
    message: reason.message,
    problems: reason.problems ?? [],
    unrecognised: false,
  };
}

function internalReply<C extends string>(): HttpErrorReply<C> {
  return { status: 500, code: INTERNAL, message: INTERNAL_MESSAGE, problems: [], unrecognised: true };
}
