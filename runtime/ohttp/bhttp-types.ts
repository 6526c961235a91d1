/**
 * Binary HTTP message types and field rules (RFC 9292). Field names and values are byte strings;
 * they are carried as Latin-1 strings (one code point per byte), as Node's HTTP layer does.
 */

/** Media type of a Binary HTTP message (RFC 9292 section 6). */
export const MEDIA_TYPE_BHTTP = "message/bhttp";

/** Known-length (framing indicators 0 and 1) or indeterminate-length (2 and 3), RFC 9292 section 3.3. */
export type BhttpFraming = "known-length" | "indeterminate";

/** One field line (RFC 9292 section 3.6). */
export interface BhttpField {
  /** Lowercase field name (an HTTP token, or `:name` for an extension pseudo-field). */
  readonly name: string;
  readonly value: string;
}

/** Request control data and header section (RFC 9292 section 3.4). */
export interface BhttpRequestHead {
  readonly method: string;
  /** `https`, `http`, or empty (CONNECT). */
  readonly scheme: string;
  /** Empty when absent (RFC 9292 section 3.4: a zero-length value replaces an omitted `:authority`). */
  readonly authority: string;
  readonly path: string;
  readonly headers: readonly BhttpField[];
}

/** An informational (1xx) response that precedes the final one (RFC 9292 section 3.5.1). */
export interface BhttpInformational {
  /** 100..199. */
  readonly status: number;
  readonly headers: readonly BhttpField[];
}

/** Response control data and header section (RFC 9292 section 3.5). */
export interface BhttpResponseHead {
  /** Informational responses in order; empty when none. */
  readonly informational?: readonly BhttpInformational[];
  /** Final status 200..599. */
  readonly status: number;
  readonly headers: readonly BhttpField[];
}

/** A complete request. */
export interface BhttpRequest extends BhttpRequestHead {
  readonly content: Uint8Array;
  readonly trailers: readonly BhttpField[];
}

/** A complete response. */
export interface BhttpResponse extends BhttpResponseHead {
  readonly content: Uint8Array;
  readonly trailers: readonly BhttpField[];
}

/** Limits the decoders enforce; exceeding one raises `MESSAGE_TOO_LARGE`. */
export interface BhttpLimits {
  /** Bytes of one field section (header or trailer), and of the request control data. Default 65536. */
  readonly maxFieldSectionBytes: number;
  /** Bytes of content. Default 16 MiB. */
  readonly maxContentBytes: number;
  /** Informational responses before the final one. Default 8. */
  readonly maxInformational: number;
}

/** Default {@link BhttpLimits}. */
export const DEFAULT_BHTTP_LIMITS: BhttpLimits = Object.freeze({
  maxFieldSectionBytes: 65536,
  maxContentBytes: 16 * 1024 * 1024,
  maxInformational: 8,
});

/** Pseudo-fields that RFC 9292 section 3.6 forbids as field lines (they are control data). */
const CONTROL_PSEUDO = new Set([":method", ":scheme", ":authority", ":path", ":status"]);

/** RFC 9110 section 5.6.2 tchar, lowercase only (HTTP/2 section 8.2.1 forbids uppercase names). */
function isLowerTchar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x23 && c <= 0x27) || // # $ % & '
    c === 0x21 ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5e ||
    c === 0x5f ||
    c === 0x60 ||
    c === 0x7c ||
    c === 0x7e
  );
}

/** Method is a token (RFC 9110 section 9.1), case preserved. */
export function methodProblem(method: string): string | undefined {
  if (method.length === 0) return "empty";
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (!isLowerTchar(c) && !(c >= 0x41 && c <= 0x5a)) return `byte 0x${c.toString(16)} is not a token character`;
  }
  return undefined;
}

/** Scheme, authority and path: visible ASCII only (no controls, spaces or non-ASCII bytes). */
export function controlProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return `byte 0x${c.toString(16)} is not visible ASCII`;
  }
  return undefined;
}

/** HTTP/2 section 8.2.1 rules for a field name (`trailer` forbids pseudo-fields, RFC 9292 section 3.6). */
export function fieldNameProblem(name: string, trailer: boolean): string | undefined {
  if (name.length === 0) return "empty name";
  const pseudo = name.charCodeAt(0) === 0x3a;
  if (pseudo && (trailer || CONTROL_PSEUDO.has(name))) return `pseudo-field ${name} is not allowed here`;
  for (let i = pseudo ? 1 : 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isLowerTchar(c)) return `name byte 0x${c.toString(16)} is not a lowercase token character`;
  }
  return pseudo && name.length === 1 ? "empty pseudo-field name" : undefined;
}

/** HTTP/2 section 8.2.1 rules for a field value: no NUL, CR or LF; no leading or trailing SP/HTAB. */
export function fieldValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) return `value byte 0x${c.toString(16)} is not allowed`;
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09)
    return "value has leading or trailing whitespace";
  return undefined;
}

/** The first problem of a field section, with the index of the offending line; pseudo-fields must come first. */
export function sectionProblem(
  fields: readonly BhttpField[],
  trailer: boolean,
): { index: number; message: string } | undefined {
  let regularSeen = false;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const message = fieldNameProblem(f.name, trailer) ?? fieldValueProblem(f.value);
    if (message !== undefined) return { index: i, message };
    const pseudo = f.name.startsWith(":");
    if (pseudo && regularSeen) return { index: i, message: `pseudo-field ${f.name} after a regular field` };
    regularSeen ||= !pseudo;
  }
  return undefined;
}
