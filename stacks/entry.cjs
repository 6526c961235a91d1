// The Pulumi program's entry (`main` in Pulumi.yaml): Pulumi's Node.js language host `require`s this
// file with plain node. It runs the compiled program (dist/stacks/main.js, bundled from
// stacks/main.ts by `npm run build`), rebuilding dist/ first when it is older than the sources, so a
// `pulumi up` after an edit never deploys stale code. Its exports are the stack outputs.
"use strict";
const { ensureDist } = require("../bin/dist.cjs");
if (!ensureDist("pulumi program", ["stacks/main.js"])) {
  throw new Error("dist/ is missing or stale and could not be built: run `npm run build` (errors above)");
}
module.exports = require("../dist/stacks/main.js");
