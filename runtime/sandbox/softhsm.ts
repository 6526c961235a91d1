/**
 * Finding (or installing) SoftHSM2, the sandbox's HSM. The decision is pure (`softHsmPlan`); the
 * installer runs `apt-get` only as root on a Debian-like system, otherwise the user gets the command.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { SandboxError } from "./errors.js";

/** Where distributions put the SoftHSM2 PKCS#11 module, most common first. */
export const SOFTHSM2_MODULE_CANDIDATES: readonly string[] = [
  "/usr/lib/softhsm/libsofthsm2.so", // Debian, Ubuntu
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so", // Fedora, RHEL
  "/usr/lib64/softhsm/libsofthsm.so",
  "/usr/local/lib/softhsm/libsofthsm2.so", // source builds
  "/opt/homebrew/lib/softhsm/libsofthsm2.so", // macOS (Homebrew)
];

/** What to do about SoftHSM2. */
export type SoftHsmPlan =
  | { readonly kind: "found"; readonly modulePath: string }
  | { readonly kind: "install" }
  | { readonly kind: "missing"; readonly hint: string };

/** How to install SoftHSM2, one line per platform. */
export const SOFTHSM2_INSTALL_HINT = [
  "SoftHSM2 (the sandbox's PKCS#11 HSM) is not installed. Install it, then run `npm start` again:",
  "  Debian/Ubuntu:  sudo apt-get install softhsm2",
  "  Fedora/RHEL:    sudo dnf install softhsm",
  "  macOS:          brew install softhsm",
  "or point SOFTHSM2_MODULE at libsofthsm2.so.",
].join("\n");

/**
 * Decides: an explicit `SOFTHSM2_MODULE` wins (and must exist), else the first candidate that
 * exists, else install with apt-get when running as root where apt-get exists, else the hint.
 */
export function softHsmPlan(o: {
  readonly envModule?: string;
  readonly exists: (path: string) => boolean;
  readonly isRoot: boolean;
  readonly hasApt: boolean;
}): SoftHsmPlan {
  if (o.envModule !== undefined && o.envModule !== "") {
    return o.exists(o.envModule)
      ? { kind: "found", modulePath: o.envModule }
      : { kind: "missing", hint: `SOFTHSM2_MODULE=${o.envModule} does not exist.\n${SOFTHSM2_INSTALL_HINT}` };
  }
  const found = SOFTHSM2_MODULE_CANDIDATES.find((p) => o.exists(p));
  if (found !== undefined) return { kind: "found", modulePath: found };
  return o.isRoot && o.hasApt ? { kind: "install" } : { kind: "missing", hint: SOFTHSM2_INSTALL_HINT };
}

/**
 * Returns the SoftHSM2 module path, installing the `softhsm2` package with apt-get first when
 * running as root. Throws SOFTHSM_MISSING (with the install hint) or SOFTHSM_INSTALL_FAILED.
 */
export function ensureSoftHsm(env: Readonly<Record<string, string | undefined>>, say: (line: string) => void): string {
  const plan = softHsmPlan({
    ...(env.SOFTHSM2_MODULE !== undefined ? { envModule: env.SOFTHSM2_MODULE } : {}),
    exists: existsSync,
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    hasApt: existsSync("/usr/bin/apt-get"),
  });
  if (plan.kind === "found") return plan.modulePath;
  if (plan.kind === "missing") throw new SandboxError("SOFTHSM_MISSING", plan.hint);
  say("SoftHSM2 is missing; running as root, so installing it: apt-get install softhsm2");
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "--no-install-recommends", "softhsm2"],
  ]) {
    const r = spawnSync("apt-get", args, { env: aptEnv, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0)
      throw new SandboxError(
        "SOFTHSM_INSTALL_FAILED",
        `apt-get ${args.join(" ")} failed (exit ${r.status ?? "signal"}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}\n${SOFTHSM2_INSTALL_HINT}`,
      );
  }
  const again = SOFTHSM2_MODULE_CANDIDATES.find((p) => existsSync(p));
  if (again === undefined)
    throw new SandboxError(
      "SOFTHSM_INSTALL_FAILED",
      `apt-get installed softhsm2 but no libsofthsm2.so is in ${SOFTHSM2_MODULE_CANDIDATES[0]}\n${SOFTHSM2_INSTALL_HINT}`,
    );
  return again;
}
