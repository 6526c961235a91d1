#!/usr/bin/env node
// `npm run bench -- NAME [args]`: runs bench/NAME/index.ts (or bench/NAME.ts) through tsx (a
// devDependency: the bench sources are TypeScript). Whatever a bench times as a process (the CLI,
// the services) runs compiled from dist/, rebuilt here first when it is stale (bin/dist.cjs).
// Every benchmark prints its result last, as `bench NAME: ratio=R <metric>=<value> ...`
// (R = ours / baseline measured in the same run; higher is better).
"use strict";
const { existsSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const { spawnSync } = require("node:child_process");

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(__dirname)
  .filter((f) => f !== "run.cjs" && f !== "lib" && !f.startsWith("."))
  .map((f) => f.replace(/\.ts$/, ""));
if (!name) {
  process.stderr.write(`usage: npm run bench -- NAME\navailable: ${available.join(", ") || "(none yet)"}\n`);
  process.exit(2);
}
const candidates = [join(__dirname, name, "index.ts"), join(__dirname, `${name}.ts`)];
const entry = candidates.find((p) => existsSync(p));
if (!entry) {
  process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(", ") || "(none yet)"}\n`);
  process.exit(2);
}
if (!require("../bin/dist.cjs").ensureDist("bench")) process.exit(1);
const r = spawnSync(process.execPath, ["--import", "tsx", entry, ...rest], { stdio: "inherit" });
process.exit(r.status ?? 1);
