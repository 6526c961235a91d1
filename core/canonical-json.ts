/**
 * Canonical JSON: the byte form that is signed and compared.
 *
 * The canonical form is the JSON Canonicalization Scheme (RFC 8785, JCS) applied to the manifest:
 * - object members sorted by key, comparing UTF-16 code units (JavaScript's default string order);
 * - no insignificant whitespace (no spaces, no newlines, no trailing newline);
 * - strings escaped as ECMAScript `JSON.stringify` does (`"` `\` and control characters; all other
 *   characters literal, encoded as UTF-8);
 * - numbers as ECMAScript serialises them (the manifest only holds safe integers, so plain decimal);
 * - array order kept (the manifest requires its set-valued arrays to be sorted already).
 *
 * Because manifests have exactly one valid spelling of every value (canonical hex, sorted sets),
 * equal manifests have equal canonical bytes, and any JCS implementation reproduces them.
 */
import type { GoldenManifest } from "../measurements/manifest/types.js";

/**
 * Serialises `value` with sorted members. `indent` undefined: canonical (no whitespace); otherwise
 * pretty-printed with that indent per level. (Not JSON.stringify with a sorted clone: engines put
 * integer-like keys such as "10" first whatever the insertion order.)
 */
function serialise(value: unknown, path: string, indent: string | undefined, depth: number): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${path} is not a finite number`);
    return JSON.stringify(value);
  }
  const open = indent === undefined ? "" : `\n${indent.repeat(depth + 1)}`;
  const close = indent === undefined ? "" : `\n${indent.repeat(depth)}`;
  const sep = indent === undefined ? "," : `,${open}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${open}${value.map((v, i) => serialise(v, `${path}[${i}]`, indent, depth + 1)).join(sep)}${close}]`;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null)
      throw new TypeError(`canonical JSON: ${path} is not a plain object`);
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      members.push(
        `${JSON.stringify(key)}:${indent === undefined ? "" : " "}${serialise(member, `${path}.${key}`, indent, depth + 1)}`,
      );
    }
    if (members.length === 0) return "{}";
    return `{${open}${members.join(sep)}${close}}`;
  }
  throw new TypeError(`canonical JSON: ${path} has unsupported type ${typeof value}`);
}

/**
 * Serialises a JSON value canonically (RFC 8785). Object members whose value is `undefined` are
 * omitted, as `JSON.stringify` does.
 * @throws TypeError for values JSON cannot hold (non-finite numbers, bigint, functions, class instances).
 * @example canonicalJson({ b: 1, a: [true, "x"] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, "$", undefined, 0);
}

/** The canonical UTF-8 bytes of a manifest: what `signManifest` signs and `golden check` compares. */
export function canonicalManifestBytes(manifest: GoldenManifest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(manifest));
}

/**
 * The file form of a manifest: the canonical member order, indented by two spaces, with a final
 * newline, for committing and reviewing (`stacks/golden/<env>.json`). Parses to the same manifest
 * as the canonical bytes.
 */
export function formatManifest(manifest: GoldenManifest): string {
  return `${serialise(manifest, "$", "  ", 0)}\n`;
}
