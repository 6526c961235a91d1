/** `attestctl golden`: placeholder until issue #3 lands; it says so instead of pretending to work. */
import { EXIT, type Command } from "../io.js";

/** The `golden` subcommand. */
export const command: Command = {
  name: "golden",
  summary: "not yet available",
  async run(_argv, io) {
    io.stderr("attestctl golden: not yet available in this release (tracked in issue #3)\n");
    return EXIT.usage;
  },
};
