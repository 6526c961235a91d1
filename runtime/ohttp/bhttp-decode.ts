/**
 * Strict, incremental Binary HTTP decoder (RFC 9292 sections 3 and 4). Bytes can arrive in any
 * split; `push` returns the events completed so far and `end` checks that the message stopped at a
 * point where RFC 9292 section 3.8 allows truncation. Every invalid message raises `BHTTP_MALFORMED`
 * (or `MESSAGE_TOO_LARGE` past a limit) naming the field.
 */
import { ByteReader, concat, latin1String } from "./bytes.js";
import {
  type BhttpField,
  type BhttpFraming,
  type BhttpInformational,
  type BhttpLimits,
  type BhttpRequestHead,
  controlProblem,
  DEFAULT_BHTTP_LIMITS,
  methodProblem,
  sectionProblem,
} from "./bhttp-types.js";
import { OhttpError } from "./errors.js";

/** What a decoder emits, in message order; `trailers` is always the last event of a message. */
export type BhttpEvent =
  | { readonly type: "request-head"; readonly framing: BhttpFraming; readonly head: BhttpRequestHead }
  | { readonly type: "informational"; readonly informational: BhttpInformational }
  | {
      readonly type: "response-head";
      readonly framing: BhttpFraming;
      readonly status: number;
      readonly headers: readonly BhttpField[];
    }
  | { readonly type: "content"; readonly data: Uint8Array }
  | { readonly type: "trailers"; readonly trailers: readonly BhttpField[] };

/** Options of {@link BhttpDecoder}. */
export interface BhttpDecoderOptions {
  /** Which message kind is acceptable; default either. */
  readonly expect?: "request" | "response";
  readonly limits?: Partial<BhttpLimits>;
}

type State = "framing" | "control" | "status" | "headers" | "content" | "content-data" | "trailers" | "padding";

const malformed = (path: string, message: string) => new OhttpError("BHTTP_MALFORMED", path, message);
const tooLarge = (path: string, message: string) => new OhttpError("MESSAGE_TOO_LARGE", path, message);

/** Incremental decoder of one Binary HTTP message. */
export class BhttpDecoder {
  private readonly limits: BhttpLimits;
  private buf: Uint8Array = new Uint8Array(0);
  private state: State = "framing";
  private framing: BhttpFraming = "known-length";
  private kind: "request" | "response" = "request";
  private status = 0;
  private pendingRequest: Omit<BhttpRequestHead, "headers"> | undefined;
  private informational = 0;
  private section: BhttpField[] = [];
  private sectionBytes = 0;
  private sectionStarted = false;
  private contentBytes = 0;
  private dataLeft = 0;
  private failed: OhttpError | undefined;

  constructor(private readonly options: BhttpDecoderOptions = {}) {
    this.limits = { ...DEFAULT_BHTTP_LIMITS, ...options.limits };
  }

  /** Feeds bytes; returns the events they complete. A failure is final: later calls rethrow it. */
  push(bytes: Uint8Array): BhttpEvent[] {
    if (this.failed !== undefined) throw this.failed;
    this.buf = this.buf.length === 0 ? bytes : concat([this.buf, bytes]);
    const events: BhttpEvent[] = [];
    try {
      while (this.step(events));
    } catch (e) {
      this.failed = e instanceof OhttpError ? e : malformed("bhttp", "decoding failed");
      throw this.failed;
    }
    return events;
  }

  /** Declares the end of input; returns the events implied by allowed truncation. */
  end(): BhttpEvent[] {
    if (this.failed !== undefined) throw this.failed;
    const events: BhttpEvent[] = [];
    const clean = this.buf.length === 0 && !this.sectionStarted;
    const finalHeaders = this.state === "headers" && this.status >= 200;
    if (
      !clean ||
      !(finalHeaders || this.state === "content" || this.state === "trailers" || this.state === "padding")
    ) {
      this.failed = malformed(`bhttp.${this.state}`, "message is truncated");
      throw this.failed;
    }
    if (finalHeaders) this.emitHead(events, []);
    if (this.state !== "padding") events.push({ type: "trailers", trailers: [] });
    this.state = "padding";
    return events;
  }

  /** One parsing step; false when more bytes are needed. */
  private step(events: BhttpEvent[]): boolean {
    if (this.buf.length === 0) return false;
    const r = new ByteReader(this.buf);
    switch (this.state) {
      case "framing":
        return this.commit(r, this.readFraming(r));
      case "control":
        return this.commit(r, this.readControl(r));
      case "status":
        return this.commit(r, this.readStatus(r));
      case "headers":
      case "trailers":
        return this.commit(r, this.readSection(r, events));
      case "content":
        return this.commit(r, this.readContentLength(r));
      case "content-data": {
        const n = Math.min(this.dataLeft, r.remaining);
        events.push({ type: "content", data: Uint8Array.from(r.bytes(n)!) });
        this.dataLeft -= n;
        if (this.dataLeft === 0) this.state = this.framing === "known-length" ? "trailers" : "content";
        return this.commit(r, true);
      }
      case "padding": {
        const nonZero = this.buf.findIndex((b) => b !== 0);
        if (nonZero >= 0)
          throw malformed("bhttp.padding", `non-zero padding byte 0x${this.buf[nonZero]!.toString(16)}`);
        r.rest();
        return this.commit(r, true);
      }
    }
  }

  /** Drops the bytes `r` consumed when the step completed. */
  private commit(r: ByteReader, done: boolean): boolean {
    if (done) this.buf = this.buf.subarray(r.offset);
    return done;
  }

  private readFraming(r: ByteReader): boolean {
    const indicator = r.varint();
    if (indicator === undefined) return false;
    if (indicator > 3) throw malformed("bhttp.framing", `framing indicator ${indicator} is not 0..3`);
    this.kind = indicator % 2 === 0 ? "request" : "response";
    this.framing = indicator < 2 ? "known-length" : "indeterminate";
    if (this.options.expect !== undefined && this.options.expect !== this.kind) {
      throw malformed(
        "bhttp.framing",
        `framing indicator ${indicator} is a ${this.kind}, a ${this.options.expect} was expected`,
      );
    }
    this.state = this.kind === "request" ? "control" : "status";
    return true;
  }

  private readControl(r: ByteReader): boolean {
    const values: string[] = [];
    let total = 0;
    for (const name of ["method", "scheme", "authority", "path"]) {
      const len = r.varint();
      if (len === undefined) return false;
      total += len;
      if (total > this.limits.maxFieldSectionBytes)
        throw tooLarge(`bhttp.${name}`, "control data exceeds maxFieldSectionBytes");
      const bytes = r.bytes(len);
      if (bytes === undefined) return false;
      const value = latin1String(bytes);
      const problem = name === "method" ? methodProblem(value) : controlProblem(value);
      if (problem !== undefined) throw malformed(`bhttp.${name}`, problem);
      values.push(value);
    }
    const [method, scheme, authority, path] = values as [string, string, string, string];
    this.pendingRequest = { method, scheme, authority, path };
    this.state = "headers";
    this.status = 200; // end(): a request's header section may be truncated like a final response's
    return true;
  }

  private readStatus(r: ByteReader): boolean {
    const status = r.varint();
    if (status === undefined) return false;
    if (status < 100 || status > 599) throw malformed("bhttp.status", `status ${status} is not 100..599`);
    if (status < 200 && ++this.informational > this.limits.maxInformational) {
      throw tooLarge("bhttp.informational", `more than ${this.limits.maxInformational} informational responses`);
    }
    this.status = status;
    this.state = "headers";
    return true;
  }

  private readSection(r: ByteReader, events: BhttpEvent[]): boolean {
    const path = this.state === "trailers" ? "bhttp.trailers" : "bhttp.headers";
    if (this.framing === "known-length") {
      const len = r.varint();
      if (len === undefined) return false;
      if (len > this.limits.maxFieldSectionBytes) throw tooLarge(path, `${len} bytes exceed maxFieldSectionBytes`);
      this.sectionStarted = true;
      const bytes = r.bytes(len);
      if (bytes === undefined) return false;
      const lr = new ByteReader(bytes);
      while (lr.remaining > 0) {
        if (!this.readLine(lr, path))
          throw malformed(`${path}[${this.section.length}]`, "field line overruns the section");
      }
      return this.finishSection(events, path);
    }
    for (;;) {
      const start = r.offset;
      if (r.remaining === 0) return this.keepFrom(start);
      if (r.buf[r.offset] === 0) {
        r.offset++;
        return this.finishSection(events, path);
      }
      this.sectionStarted = true;
      if (!this.readLine(r, path)) return this.keepFrom(start);
    }
  }

  /** Keeps the complete lines of an indeterminate section and waits for the rest of the line at `lineStart`. */
  private keepFrom(lineStart: number): boolean {
    this.buf = this.buf.subarray(lineStart);
    return false;
  }

  private readLine(r: ByteReader, path: string): boolean {
    const budget = this.limits.maxFieldSectionBytes - this.sectionBytes;
    const start = r.offset;
    const nameLen = r.varint();
    if (nameLen === undefined) return false;
    if (nameLen === 0) throw malformed(`${path}[${this.section.length}].name`, "zero-length name");
    if (nameLen > budget) throw tooLarge(path, "field section exceeds maxFieldSectionBytes");
    const name = r.bytes(nameLen);
    const valueLen = name === undefined ? undefined : r.varint();
    if (valueLen === undefined) return false;
    if (nameLen + valueLen > budget) throw tooLarge(path, "field section exceeds maxFieldSectionBytes");
    const value = r.bytes(valueLen);
    if (value === undefined) return false;
    this.section.push({ name: latin1String(name!), value: latin1String(value) });
    this.sectionBytes += r.offset - start;
    return true;
  }

  private finishSection(events: BhttpEvent[], path: string): boolean {
    const fields = this.section;
    const problem = sectionProblem(fields, this.state === "trailers");
    if (problem !== undefined) throw malformed(`${path}[${problem.index}]`, problem.message);
    this.section = [];
    this.sectionBytes = 0;
    this.sectionStarted = false;
    if (this.state === "trailers") {
      events.push({ type: "trailers", trailers: fields });
      this.state = "padding";
    } else if (this.status < 200) {
      events.push({ type: "informational", informational: { status: this.status, headers: fields } });
      this.state = "status";
    } else {
      this.emitHead(events, fields);
      this.state = "content";
    }
    return true;
  }

  private emitHead(events: BhttpEvent[], headers: BhttpField[]): void {
    if (this.kind === "request")
      events.push({ type: "request-head", framing: this.framing, head: { ...this.pendingRequest!, headers } });
    else events.push({ type: "response-head", framing: this.framing, status: this.status, headers });
  }

  private readContentLength(r: ByteReader): boolean {
    const len = r.varint();
    if (len === undefined) return false;
    if (this.framing === "indeterminate" && len === 0) {
      this.state = "trailers";
      this.sectionStarted = false;
      return true;
    }
    if (this.contentBytes + len > this.limits.maxContentBytes)
      throw tooLarge("bhttp.content", "content exceeds maxContentBytes");
    this.contentBytes += len;
    this.sectionStarted = this.framing === "indeterminate";
    this.dataLeft = len;
    this.state = len === 0 ? "trailers" : "content-data";
    return true;
  }
}
