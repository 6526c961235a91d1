/**
 * System tools some tests run (besides Node): what each is for, which Debian package provides it,
 * and how to get it. On a fresh Debian machine `npm test` as root installs the missing ones once
 * with apt-get (vitest's global setup, like `npm start` does for SoftHSM2); otherwise a test that
 * needs a missing tool fails with one line naming the package to install.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A tool the tests need. */
export interface SystemTool {
  /** Debian package that provides it. */
  readonly debianPackage: string;
  /** What needs it. */
  readonly usedBy: string;
  /** Whether it is installed. */
  readonly present: () => boolean;
}

/** True when `command` is an executable on PATH. */
export function onPath(command: string, path = process.env.PATH ?? ""): boolean {
  return path
    .split(delimiter)
    .filter((dir) => dir !== "")
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Every system tool the test suite uses (bash, sh, coreutils and git come with any Debian that cloned this repo). */
export const SYSTEM_TOOLS = {
  openssl: {
    debianPackage: "openssl",
    usedBy: "test PKI (test/helpers/pki.ts) and certificate checks",
    present: () => onPath("openssl"),
  },
  softhsm2: {
    debianPackage: "softhsm2",
    usedBy: "the key broker's PKCS#11 HSM (libsofthsm2.so, softhsm2-util)",
    present: () => existsSync("/usr/lib/softhsm/libsofthsm2.so") && onPath("softhsm2-util"),
  },
  shellcheck: {
    debianPackage: "shellcheck",
    usedBy: "the host scripts' lint (test/components/host-scripts.test.ts)",
    present: () => onPath("shellcheck"),
  },
  curl: {
    debianPackage: "curl",
    usedBy: "the sandbox end-to-end test (the README's curl command)",
    present: () => onPath("curl"),
  },
  postgresql: {
    debianPackage: "postgresql",
    usedBy: "the key broker's replicated state store (test/helpers/postgres.ts starts its own server per test file)",
    present: () => postgresBin("initdb") !== undefined,
  },
  "qemu-system-x86": {
    debianPackage: "qemu-system-x86",
    usedBy: "booting the built guest image (test/images/guest.test.ts; TCG when /dev/kvm is absent)",
    present: () => onPath("qemu-system-x86_64"),
  },
  "xz-utils": {
    debianPackage: "xz-utils",
    usedBy: "unpacking the guest kernel's modules (.ko.xz) into the initramfs",
    present: () => onPath("xz"),
  },
} as const satisfies Record<string, SystemTool>;

/**
 * A PostgreSQL server program (`initdb`, `pg_ctl`, `postgres`): on PATH, else Debian's
 * `/usr/lib/postgresql/<newest version>/bin` (the package does not put them on PATH).
 */
export function postgresBin(name: "initdb" | "pg_ctl" | "postgres"): string | undefined {
  if (onPath(name)) return name;
  let versions: string[];
  try {
    versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const p = join("/usr/lib/postgresql", v, "bin", name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Name of a tool in {@link SYSTEM_TOOLS}. */
export type ToolName = keyof typeof SYSTEM_TOOLS;

/** The tools that are missing, in table order. */
export function missingTools(): ToolName[] {
  return (Object.keys(SYSTEM_TOOLS) as ToolName[]).filter((name) => !SYSTEM_TOOLS[name].present());
}

/** The one line a test fails with when `name` is missing. */
export function missingToolMessage(name: ToolName): string {
  const t = SYSTEM_TOOLS[name];
  return `${name} is not installed (needed by ${t.usedBy}): apt-get install ${t.debianPackage} (npm test as root installs it)`;
}

/** Fails the calling test with one line when `name` is missing. */
export function requireTool(name: ToolName): void {
  if (!SYSTEM_TOOLS[name].present()) throw new Error(missingToolMessage(name));
}

/**
 * Installs the missing tools with apt-get when running as root on a system that has it (once: a
 * later run finds them). Returns the packages installed; throws with apt-get's last lines on failure.
 * Not root, or no apt-get: installs nothing and returns the missing tools' one-line messages in `hints`.
 */
export function installMissingTools(say: (line: string) => void): { installed: string[]; hints: string[] } {
  const missing = missingTools();
  if (missing.length === 0) return { installed: [], hints: [] };
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !existsSync("/usr/bin/apt-get")) return { installed: [], hints: missing.map(missingToolMessage) };
  const packages = [...new Set(missing.map((n) => SYSTEM_TOOLS[n].debianPackage))];
  say(`tests need ${packages.join(", ")}; running as root, so installing: apt-get install ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "--no-install-recommends", ...packages],
  ]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0)
      throw new Error(
        `apt-get ${args.join(" ")} failed (exit ${r.status ?? "signal"}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
      );
  }
  return { installed: packages, hints: missingTools().map(missingToolMessage) };
}
