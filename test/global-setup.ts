/**
 * Vitest global setup, run once before any test file:
 * - the tests also spawn the compiled bundles (bin/attestctl, the service mains, the render worker),
 *   so dist/ must match the sources under test: rebuilt (~2 s) when missing or older than any
 *   source, exactly as bin/attestctl does (bin/dist.cjs);
 * - system tools the tests run (openssl, SoftHSM2, shellcheck, curl) are installed with apt-get
 *   when missing and running as root (a fresh Debian machine); otherwise one line says what is
 *   missing and each test that needs it fails naming the package (test/helpers/system-tools.ts).
 */
import { installMissingTools } from "./helpers/system-tools.js";

interface DistModule {
  ensureDist(who: string): boolean;
}

export default function setup(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/dist.cjs is plain CommonJS shared with bin/attestctl
  const { ensureDist } = require("../bin/dist.cjs") as DistModule;
  if (!ensureDist("vitest")) throw new Error("dist/ could not be built (errors above): the tests would run stale code");
  const say = (line: string) => process.stderr.write(`vitest: ${line}\n`);
  const { hints } = installMissingTools(say);
  for (const hint of hints) say(hint);
}
