/** File helpers of the sandbox. */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Writes a file atomically (temp + rename), creating its folder (0700); `secret` files are 0600. */
export function writeFileAtomic(path: string, data: string | Uint8Array, secret = false): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: secret ? 0o600 : 0o644 });
  renameSync(tmp, path);
}
