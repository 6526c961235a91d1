/**
 * The two byte forms of a golden manifest. Because manifests have exactly one valid spelling of
 * every value (canonical hex, sorted sets, safe integers), equal manifests have equal canonical
 * bytes, and any RFC 8785 implementation reproduces them.
 */
import { canonicalJson, indentedCanonicalJson } from "../../core/index.js";
import type { GoldenManifest } from "./types.js";

/** The canonical UTF-8 bytes of a manifest (RFC 8785): what `signManifest` signs and `golden check` compares. */
export function canonicalManifestBytes(manifest: GoldenManifest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(manifest));
}

/**
 * The file form of a manifest: the canonical member order, indented by two spaces, with a final
 * newline, for committing and reviewing (`stacks/golden/<env>.json`). Parses to the same manifest
 * as the canonical bytes.
 */
export function formatManifest(manifest: GoldenManifest): string {
  return `${indentedCanonicalJson(manifest, "  ")}\n`;
}
