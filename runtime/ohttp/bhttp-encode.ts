/**
 * Binary HTTP encoders (RFC 9292 section 3): whole messages in known-length or indeterminate-length
 * form, and the pieces of an indeterminate-length message for streaming (head, content chunks, end),
 * whose concatenation is one valid message. Invalid input is caller misuse and raises `TypeError`.
 */
import { ByteWriter, concat, encodeVarint, latin1Bytes } from "./bytes.js";
import {
  type BhttpField,
  type BhttpFraming,
  type BhttpRequest,
  type BhttpRequestHead,
  type BhttpResponse,
  type BhttpResponseHead,
  controlProblem,
  methodProblem,
  sectionProblem,
} from "./bhttp-types.js";

/** Options of the whole-message encoders. */
export interface BhttpEncodeOptions {
  /** Default `known-length`. */
  readonly framing?: BhttpFraming;
  /**
   * Omit empty trailing sections (trailers, then content, then headers) as RFC 9292 section 3.8
   * allows. Default false: every section is written.
   */
  readonly truncate?: boolean;
  /** Zero bytes appended (RFC 9292 section 3.8), to hide the length. Default 0. */
  readonly padding?: number;
}

function lower(fields: readonly BhttpField[], path: string, trailer: boolean): BhttpField[] {
  const out = fields.map((f) => ({ name: f.name.toLowerCase(), value: f.value }));
  const problem = sectionProblem(out, trailer);
  if (problem !== undefined) throw new TypeError(`${path}[${problem.index}]: ${problem.message}`);
  return out;
}

function fieldLines(fields: readonly BhttpField[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of fields) w.prefixed(latin1Bytes(f.name)).prefixed(latin1Bytes(f.value));
  return w.finish();
}

function section(fields: readonly BhttpField[], framing: BhttpFraming): Uint8Array {
  const lines = fieldLines(fields);
  return framing === "known-length" ? concat([encodeVarint(lines.length), lines]) : concat([lines, encodeVarint(0)]);
}

function requestControl(head: BhttpRequestHead): Uint8Array {
  const problem = methodProblem(head.method);
  if (problem !== undefined) throw new TypeError(`request.method: ${problem}`);
  const w = new ByteWriter().prefixed(latin1Bytes(head.method));
  for (const key of ["scheme", "authority", "path"] as const) {
    const p = controlProblem(head[key]);
    if (p !== undefined) throw new TypeError(`request.${key}: ${p}`);
    w.prefixed(latin1Bytes(head[key]));
  }
  return w.finish();
}

function checkStatus(status: number, min: number, max: number, path: string): void {
  if (!Number.isInteger(status) || status < min || status > max)
    throw new TypeError(`${path}: ${status} is not ${min}..${max}`);
}

function responseControl(head: BhttpResponseHead, framing: BhttpFraming): Uint8Array {
  const parts: Uint8Array[] = [];
  (head.informational ?? []).forEach((info, i) => {
    checkStatus(info.status, 100, 199, `response.informational[${i}].status`);
    parts.push(
      encodeVarint(info.status),
      section(lower(info.headers, `response.informational[${i}].headers`, false), framing),
    );
  });
  checkStatus(head.status, 200, 599, "response.status");
  parts.push(encodeVarint(head.status));
  return concat(parts);
}

function body(
  framingIndicator: number,
  control: Uint8Array,
  msg: BhttpRequest | BhttpResponse,
  path: string,
  options: BhttpEncodeOptions,
): Uint8Array {
  const framing = options.framing ?? "known-length";
  const headers = lower(msg.headers, `${path}.headers`, false);
  const trailers = lower(msg.trailers, `${path}.trailers`, true);
  const sections: Uint8Array[] = [section(headers, framing)];
  if (framing === "known-length") sections.push(concat([encodeVarint(msg.content.length), msg.content]));
  else
    sections.push(
      concat([msg.content.length > 0 ? encodeBhttpContentChunk(msg.content) : new Uint8Array(0), encodeVarint(0)]),
    );
  sections.push(section(trailers, framing));
  if (options.truncate === true) {
    // RFC 9292 section 3.8: trailing empty parts may be omitted, last first.
    const empty = [headers.length === 0, msg.content.length === 0, trailers.length === 0];
    while (sections.length > 0 && empty[sections.length - 1]) sections.pop();
  }
  const padding = options.padding ?? 0;
  if (!Number.isSafeInteger(padding) || padding < 0)
    throw new TypeError(`options.padding: ${padding} is not a byte count`);
  return concat([encodeVarint(framingIndicator), control, ...sections, new Uint8Array(padding)]);
}

/** Encodes a request (framing indicator 0, or 2 when `framing` is `indeterminate`); names are lowercased. */
export function encodeBhttpRequest(request: BhttpRequest, options: BhttpEncodeOptions = {}): Uint8Array {
  const indicator = (options.framing ?? "known-length") === "known-length" ? 0 : 2;
  return body(indicator, requestControl(request), request, "request", options);
}

/** Encodes a response (framing indicator 1, or 3 when `framing` is `indeterminate`); names are lowercased. */
export function encodeBhttpResponse(response: BhttpResponse, options: BhttpEncodeOptions = {}): Uint8Array {
  const framing = options.framing ?? "known-length";
  return body(framing === "known-length" ? 1 : 3, responseControl(response, framing), response, "response", options);
}

/** Start of a streamed request (framing indicator 2): control data and the header section. */
export function encodeBhttpRequestHead(head: BhttpRequestHead): Uint8Array {
  return concat([
    encodeVarint(2),
    requestControl(head),
    section(lower(head.headers, "request.headers", false), "indeterminate"),
  ]);
}

/** Start of a streamed response (framing indicator 3): informational responses, status and header section. */
export function encodeBhttpResponseHead(head: BhttpResponseHead): Uint8Array {
  const headers = section(lower(head.headers, "response.headers", false), "indeterminate");
  return concat([encodeVarint(3), responseControl(head, "indeterminate"), headers]);
}

/** One content chunk of a streamed message; empty input gives empty output (a zero length would end the content). */
export function encodeBhttpContentChunk(data: Uint8Array): Uint8Array {
  return data.length === 0 ? new Uint8Array(0) : concat([encodeVarint(data.length), data]);
}

/** End of a streamed message: content terminator, trailer section, optional zero padding. */
export function encodeBhttpEnd(trailers: readonly BhttpField[] = [], padding = 0): Uint8Array {
  if (!Number.isSafeInteger(padding) || padding < 0) throw new TypeError(`padding: ${padding} is not a byte count`);
  return concat([
    encodeVarint(0),
    section(lower(trailers, "trailers", true), "indeterminate"),
    new Uint8Array(padding),
  ]);
}
