/** `attestctl verify`: placeholder until issue #4 lands; it says so instead of pretending to work. */
import { EXIT, type Command } from "../io.js";

/** The `verify` subcommand. */
export const command: Command = {
  name: "verify",
  summary: "not yet available",
  async run(_argv, io) {
    io.stderr("attestctl verify: not yet available in this release (tracked in issue #4)\n");
    return EXIT.usage;
  },
};
