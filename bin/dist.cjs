// Keeps dist/ (the compiled bundles that every process runs) in step with the TypeScript sources.
// Plain CommonJS that loads only node: modules, so `bin/attestctl`, the Pulumi entry files and
// vitest's global setup can call it before anything else at almost no cost (~1 ms: a JSON read and
// a stat per source file of the bundles about to run).
//
// dist/ is stale when dist/build-info.json is missing or when a source it lists (or the build
// script, package.json, the lock file) changed after that build started. In an installed package
// (no tsconfig.json: sources are not shipped) dist/ is what was packed and is never rebuilt.
"use strict";
const { existsSync, readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const DIST = join(ROOT, "dist");

/**
 * Why dist/ must be rebuilt, or undefined when it is current.
 * @param {readonly string[]} [bundles] outputs to check (e.g. "bin/cli.js"; default: all of them)
 * @param {string} [root] project root (tests point it at a scratch tree)
 * @returns {string | undefined}
 */
function staleReason(bundles, root = ROOT) {
  const infoFile = join(root, "dist", "build-info.json");
  if (!existsSync(infoFile)) return "missing";
  if (!existsSync(join(root, "tsconfig.json"))) return undefined;
  let info;
  try {
    info = JSON.parse(readFileSync(infoFile, "utf8"));
  } catch {
    return "unreadable";
  }
  const seen = new Set(info.shared);
  for (const name of bundles ?? Object.keys(info.bundles)) {
    const bundle = info.bundles[name];
    if (bundle === undefined) return `missing ${name}`;
    for (const file of bundle.inputs) seen.add(file);
  }
  for (const file of seen) {
    const st = statSync(join(root, file), { throwIfNoEntry: false });
    if (st === undefined || st.mtimeMs > info.startedAt) return `older than ${file}`;
  }
  return undefined;
}

/**
 * Builds dist/ (node scripts/build.mjs) when it is missing or stale, announcing it in one line on
 * stderr. Returns true when dist/ is current afterwards; on failure the build's errors (or what to
 * install) are on stderr.
 * @param {string} who name for the message, e.g. "attestctl"
 * @param {readonly string[]} [bundles] the bundles about to run (default: all; a rebuild builds all)
 * @returns {boolean}
 */
function ensureDist(who, bundles) {
  const reason = staleReason(bundles);
  if (reason === undefined) return true;
  process.stderr.write(`${who}: dist/ is ${reason}; building it first (node scripts/build.mjs, ~2 s)\n`);
  if (!existsSync(join(ROOT, "node_modules", "esbuild"))) {
    process.stderr.write(`${who}: cannot build: esbuild is not installed; run \`npm ci\` in ${ROOT}\n`);
    return false;
  }
  const { spawnSync } = require("node:child_process");
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--quiet"], {
    cwd: ROOT,
    stdio: ["ignore", 2, 2],
  });
  return r.status === 0;
}

module.exports = { DIST, ensureDist, staleReason };
