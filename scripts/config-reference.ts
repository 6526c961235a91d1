/** Prints the stack config reference table (README section "Configuration reference"). */
import { configReference } from "../stacks/config-reference.js";

process.stdout.write(configReference());
