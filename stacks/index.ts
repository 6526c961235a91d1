/**
 * The Pulumi program: typed config -> components -> stack outputs. Config is validated in full
 * before any resource is created, so a bad key never leaves a half-created stack.
 */
import { loadStackConfig } from "./config.js";

const { config } = loadStackConfig();

/** The environment class of this stack (dev, staging or prod). */
export const environment = config.environment;
/** The release id the golden manifest is issued for. */
export const release = config.release;
