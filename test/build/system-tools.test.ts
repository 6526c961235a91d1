/**
 * System tools the tests run: which Debian package provides each, and the one line a test fails
 * with when one is missing (a fresh Debian machine gets them from `npm test` as root).
 */
import { describe, expect, it } from "vitest";
import { SYSTEM_TOOLS, missingToolMessage, onPath, postgresBin } from "../helpers/system-tools.js";

describe("test/helpers/system-tools", () => {
  it("maps every tool to its Debian package", () => {
    expect(Object.fromEntries(Object.entries(SYSTEM_TOOLS).map(([name, t]) => [name, t.debianPackage]))).toEqual({
      openssl: "openssl",
      softhsm2: "softhsm2",
      shellcheck: "shellcheck",
      curl: "curl",
      postgresql: "postgresql",
      "qemu-system-x86": "qemu-system-x86",
      "xz-utils": "xz-utils",
    });
  });

  it("finds PostgreSQL's server programs where Debian puts them (off PATH)", () => {
    const initdb = postgresBin("initdb");
    expect(initdb === "initdb" || /^\/usr\/lib\/postgresql\/\d+\/bin\/initdb$/.test(initdb ?? "")).toBe(true);
  });

  it("names the package to install in one line", () => {
    expect(missingToolMessage("shellcheck")).toBe(
      "shellcheck is not installed (needed by the host scripts' lint (test/components/host-scripts.test.ts)): apt-get install shellcheck (npm test as root installs it)",
    );
  });

  it("finds executables on PATH only", () => {
    expect([onPath("sh"), onPath("sh", ""), onPath("no-such-tool-f00d"), onPath("sh", "/nonexistent:/bin")]).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });
});
