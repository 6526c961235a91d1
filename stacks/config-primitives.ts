/**
 * Reusable field validators for the stack configuration schema. Messages are part of the
 * contract (tests assert them exactly): keep them short and actionable.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { hexInteger } from "../measurements/manifest/index.js";

export { hexInteger };

const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const IMAGE_BY_DIGEST =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$/;

/** One or more PEM certificates. */
export const PEM_CERTIFICATE = /^(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?)+$/;

/** True when `value` is an IPv4/IPv6 literal or a syntactically valid DNS hostname. */
export function isAddress(value: string): boolean {
  if (isIP(value) !== 0) return true;
  // An all-numeric dotted name is a malformed IPv4 address, not a hostname.
  if (/^[0-9.]+$/.test(value)) return false;
  return HOSTNAME.test(value);
}

/** An IP address or hostname. */
export const address = z.string().refine(isAddress, { message: "not an IP address or hostname" });

/** A lower-case DNS label (RFC 1123), used for names that become resource and Kubernetes names. */
export const dnsLabel = z
  .string()
  .regex(DNS_LABEL, { message: "must be a lower-case DNS label (a-z, 0-9, '-', at most 63 characters)" });

/** A lower-case hex SHA-256 digest. */
export const sha256Hex = z
  .string()
  .regex(SHA256_HEX, { message: "must be a lower-case hex SHA-256 digest (64 characters)" });

/** A container image pinned by digest (`registry/repo[:tag]@sha256:<64 hex>`). */
export const imageByDigest = z
  .string()
  .regex(IMAGE_BY_DIGEST, { message: "image must be pinned by digest (name@sha256:<64 hex>)" });

/** A TCP port number. */
export const port = z
  .number()
  .int()
  .min(1, { message: "must be a port number (1-65535)" })
  .max(65535, { message: "must be a port number (1-65535)" });

/** A positive whole number of seconds. */
export function seconds(min: number, max: number) {
  return z
    .number()
    .int()
    .min(min, { message: `must be between ${min} and ${max} seconds` })
    .max(max, { message: `must be between ${min} and ${max} seconds` });
}

/** An absolute POSIX path. */
export const absolutePath = z.string().regex(/^\/[^\0]*$/, { message: "must be an absolute path" });
