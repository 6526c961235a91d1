/** Module face of `runtime/inference`: everything other modules may import from it. */
export { sealAndSignModel } from "./model/seal.js";
