/** `attestctl measure`: placeholder until issue #3 lands; it says so instead of pretending to work. */
import { EXIT, type Command } from "../io.js";

/** The `measure` subcommand. */
export const command: Command = {
  name: "measure",
  summary: "not yet available",
  async run(_argv, io) {
    io.stderr("attestctl measure: not yet available in this release (tracked in issue #3)\n");
    return EXIT.usage;
  },
};
