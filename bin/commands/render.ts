/** `attestctl render`: placeholder until issue #7 lands; it says so instead of pretending to work. */
import { EXIT, type Command } from "../io.js";

/** The `render` subcommand. */
export const command: Command = {
  name: "render",
  summary: "not yet available",
  async run(_argv, io) {
    io.stderr("attestctl render: not yet available in this release (tracked in issue #7)\n");
    return EXIT.usage;
  },
};
