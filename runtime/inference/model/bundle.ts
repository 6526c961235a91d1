/**
 * A model directory as one byte string (format `CI-MDIR` version 1), so that a decoder model's every file
 * (graph, tokenizer, configs, chat template) is sealed in one container and covered by one signed digest.
 * Pure: files in, bytes out, and back.
 *
 * | size | field |
 * | --- | --- |
 * | 8 | magic `CI-MDIR\0` |
 * | 1 | version, 1 |
 * | 2 | file count `n` (big-endian, 1..1024) |
 * | per file, sorted by name (byte order), names unique: | |
 * | 2 | name length `k` (1..255) |
 * | k | name (UTF-8 relative path: `[A-Za-z0-9._-]` segments joined by `/`, no `.` or `..` segment) |
 * | 8 | size `s` (big-endian) |
 * | s | bytes |
 *
 * The same files always give the same bytes, whatever order they were read in, so the SHA-256 of a bundle is
 * the model directory's digest.
 */
import { createHash } from "node:crypto";
import { InferenceError } from "../errors.js";

/** Bundle magic, `CI-MDIR\0`. */
export const BUNDLE_MAGIC = Buffer.from("CI-MDIR\0", "ascii");
/** Current bundle version. */
export const BUNDLE_VERSION = 1;
const MAX_FILES = 1024;
const MAX_NAME = 255;
const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** One file of a bundle with its digest (what the registry's signature lists). */
export interface BundleEntry {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

function malformed(what: string): InferenceError {
  return new InferenceError("MODEL_CONTAINER_MALFORMED", `reading model directory bundle: ${what}`);
}

function checkName(name: string): string | undefined {
  if (!NAME.test(name)) return "must be a relative path of [A-Za-z0-9._-] segments";
  if (name.split("/").some((s) => s === "." || s === "..")) return "must not have a . or .. segment";
  if (Buffer.byteLength(name) > MAX_NAME) return `must be at most ${MAX_NAME} bytes`;
  return undefined;
}

/** True when `bytes` start with the bundle magic (a directory bundle, not a single ONNX file). */
export function isModelBundle(bytes: Uint8Array): boolean {
  return bytes.length >= BUNDLE_MAGIC.length && BUNDLE_MAGIC.equals(Buffer.from(bytes.subarray(0, 8)));
}

/**
 * Encodes files into a bundle. Caller misuse (no files, too many, a bad or duplicate name) -> TypeError.
 *
 * @example
 * const bytes = encodeModelBundle(new Map([["model.onnx", onnx], ["tokenizer.json", tok]]));
 */
export function encodeModelBundle(files: ReadonlyMap<string, Uint8Array>): Buffer {
  if (files.size < 1 || files.size > MAX_FILES) throw new TypeError(`a bundle holds 1 to ${MAX_FILES} files`);
  const names = [...files.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [BUNDLE_MAGIC, Buffer.from([BUNDLE_VERSION]), u16(names.length)];
  for (const name of names) {
    const bad = checkName(name);
    if (bad) throw new TypeError(`bundle file name ${JSON.stringify(name)} ${bad}`);
    const bytes = files.get(name)!;
    const size = Buffer.alloc(8);
    size.writeBigUInt64BE(BigInt(bytes.length));
    parts.push(u16(Buffer.byteLength(name)), Buffer.from(name, "utf8"), size, Buffer.from(bytes));
  }
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * Decodes a bundle into its files (views into `bytes`, not copies). Anything off (magic, version, order,
 * duplicate or bad names, sizes past the end, trailing bytes) -> `MODEL_CONTAINER_MALFORMED`.
 */
export function decodeModelBundle(bytes: Uint8Array): Map<string, Uint8Array> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isModelBundle(buf)) throw malformed("bad magic (not a CI-MDIR bundle)");
  if (buf.length < 11) throw malformed("too short");
  const version = buf.readUInt8(8);
  if (version !== BUNDLE_VERSION) throw malformed(`unsupported version ${version}`);
  const count = buf.readUInt16BE(9);
  if (count < 1 || count > MAX_FILES) throw malformed(`file count ${count} is not 1..${MAX_FILES}`);
  const files = new Map<string, Uint8Array>();
  let at = 11;
  let previous: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    if (at + 2 > buf.length) throw malformed(`file ${i}: truncated name length`);
    const k = buf.readUInt16BE(at);
    at += 2;
    if (k < 1 || k > MAX_NAME || at + k + 8 > buf.length) throw malformed(`file ${i}: bad name length ${k}`);
    const raw = buf.subarray(at, at + k);
    const name = raw.toString("utf8");
    at += k;
    const bad = checkName(name);
    if (bad) throw malformed(`file ${i}: name ${bad}`);
    if (previous !== undefined && Buffer.compare(previous, raw) >= 0)
      throw malformed(`file ${i}: names not in strictly ascending order`);
    previous = raw;
    const size = buf.readBigUInt64BE(at);
    at += 8;
    if (size > BigInt(buf.length - at)) throw malformed(`file ${name}: size runs past the end`);
    files.set(name, buf.subarray(at, at + Number(size)));
    at += Number(size);
  }
  if (at !== buf.length) throw malformed(`${buf.length - at} bytes after the last file`);
  return files;
}

/** Each file's name, SHA-256 and size, in bundle order (what the registry signs for a directory). */
export function bundleEntries(files: ReadonlyMap<string, Uint8Array>): BundleEntry[] {
  return [...files.keys()]
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((name) => {
      const bytes = files.get(name)!;
      return { name, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
    });
}
