/** `attestctl sandbox`: placeholder until issue #8 lands; it says so instead of pretending to work. */
import { EXIT, type Command } from "../io.js";

/** The `sandbox` subcommand. */
export const command: Command = {
  name: "sandbox",
  summary: "not yet available",
  async run(_argv, io) {
    io.stderr("attestctl sandbox: not yet available in this release (tracked in issue #8)\n");
    return EXIT.usage;
  },
};
