/**
 * Canonical JSON: the JSON Canonicalization Scheme (RFC 8785, JCS), the byte form that is hashed,
 * signed and compared (golden manifests, the KBS report-data binding, audit digests of evidence):
 * - object members sorted by key, comparing UTF-16 code units (JavaScript's default string order);
 * - no insignificant whitespace (no spaces, no newlines, no trailing newline);
 * - strings escaped as ECMAScript `JSON.stringify` does (`"` `\` and control characters; all other
 *   characters literal, encoded as UTF-8);
 * - numbers as ECMAScript serialises them (RFC 8785 section 3.2.2.3); NaN and the infinities refused;
 * - array order kept.
 *
 * Strict where JSON.stringify is lenient: values JSON cannot hold (non-finite numbers, bigint,
 * functions, symbols, class instances such as Date) raise `TypeError` instead of becoming `null`,
 * `{}` or a string.
 */

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

/**
 * The canonical member order and escaping of {@link canonicalJson}, indented by `indent` per level
 * with `": "` after keys, for files people review (not canonical itself: it has whitespace). Parses
 * to the same value as the canonical form.
 * @example indentedCanonicalJson({ b: 1, a: 2 }) // '{\n  "a": 2,\n  "b": 1\n}'
 */
export function indentedCanonicalJson(value: unknown, indent = "  "): string {
  return serialise(value, "$", indent, 0);
}
