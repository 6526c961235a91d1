// The policy pack's entry (`main` in PulumiPolicy.yaml): runs the compiled pack (dist/guardrails/index.js,
// bundled from guardrails/index.ts by `npm run build`), rebuilding dist/ first when it is older than
// the sources.
"use strict";
const { ensureDist } = require("../bin/dist.cjs");
if (!ensureDist("policy pack", ["guardrails/index.js"])) {
  throw new Error("dist/ is missing or stale and could not be built: run `npm run build` (errors above)");
}
module.exports = require("../dist/guardrails/index.js");
