#!/usr/bin/env node
// @ts-check
/**
 * `npm run build` (first half): compiles the TypeScript sources to CommonJS bundles under dist/ with
 * esbuild, one bundle per entry point (see docs/build.md for the layout and what stays external).
 * Plain JavaScript so it runs with nothing but Node and esbuild (a devDependency): `bin/attestctl`,
 * the Pulumi entry files and vitest's global setup run it when dist/ is missing or stale.
 *
 * Writes every output atomically (temp file + rename) so a process starting while a build runs
 * never reads half a bundle, and writes dist/build-info.json last: the project sources each bundle
 * was built from and the time the build started (`bin/dist.cjs` compares source mtimes against it).
 *
 * Usage: node scripts/build.mjs [--quiet]
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const quiet = process.argv.includes("--quiet");

/** Node versions the bundles must run on (package.json engines). */
const TARGET = "node20.19";

/**
 * Packages that stay `require`d from node_modules in the application bundles:
 * - `@pulumi/*`: the SDK keeps process-wide state (the engine connection, mocks, config) that the
 *   language host's run harness and the program must share (one copy), and it loads .proto/plugin
 *   files by path;
 * - native addons (`pkcs11js`, `onnxruntime-node`): a `.node` file cannot be inlined. The runtime
 *   bundle is the exception: it carries onnxruntime's addon beside itself (see `guest`).
 */
const APP_EXTERNAL = ["@pulumi/*", "pkcs11js", "onnxruntime-node"];

/**
 * @typedef {object} Entry
 * @property {string} in       source entry, relative to the project root
 * @property {string} out      output file, relative to dist/
 * @property {"app" | "guest" | "library"} kind
 *   app: bundles its dependencies except APP_EXTERNAL; guest: self-contained (no node_modules at
 *   run time, onnxruntime's native files copied beside it); library: every package external (the
 *   consumer's node_modules provides them, deduplicated with its own copies).
 */

/** @type {readonly Entry[]} */
export const ENTRIES = [
  { in: "bin/cli.ts", out: "bin/cli.js", kind: "app" },
  { in: "bin/commands/measure.ts", out: "bin/commands/measure.js", kind: "app" },
  { in: "bin/commands/verify.ts", out: "bin/commands/verify.js", kind: "app" },
  { in: "bin/commands/golden.ts", out: "bin/commands/golden.js", kind: "app" },
  { in: "bin/commands/render.ts", out: "bin/commands/render.js", kind: "app" },
  { in: "bin/commands/sandbox.ts", out: "bin/commands/sandbox.js", kind: "app" },
  { in: "bin/commands/proxy.ts", out: "bin/commands/proxy.js", kind: "app" },
  { in: "bin/commands/api-key.ts", out: "bin/commands/api-key.js", kind: "app" },
  { in: "bin/commands/image.ts", out: "bin/commands/image.js", kind: "app" },
  { in: "runtime/keybroker/main.ts", out: "runtime/keybroker/main.js", kind: "app" },
  { in: "runtime/gateway/main.ts", out: "runtime/gateway/main.js", kind: "app" },
  { in: "runtime/inference/main.ts", out: "runtime/inference/main.js", kind: "guest" },
  { in: "stacks/render/worker.ts", out: "stacks/render/worker.js", kind: "app" },
  { in: "stacks/main.ts", out: "stacks/main.js", kind: "app" },
  { in: "guardrails/index.ts", out: "guardrails/index.js", kind: "app" },
  { in: "components/index.ts", out: "lib/components.js", kind: "library" },
  { in: "measurements/snp/index.ts", out: "lib/measurements-snp.js", kind: "library" },
  { in: "measurements/manifest/index.ts", out: "lib/measurements-manifest.js", kind: "library" },
  { in: "runtime/attestation/index.ts", out: "lib/verifier.js", kind: "library" },
  { in: "runtime/client/index.ts", out: "lib/client.js", kind: "library" },
];

/** onnxruntime-node's native files, copied beside the guest bundle (the addon's RUNPATH is $ORIGIN). */
const ORT_NATIVE = ["onnxruntime_binding.node", "libonnxruntime.so.1"];

/**
 * `__dirname` in a bundled source file means that file's source folder (e.g. components/ reads
 * the shell scripts beside it; the sandbox finds the project root): rewrite it to the source
 * folder relative to the bundle's location, so dist/ works wherever the package is installed.
 * The guest bundle runs without the source tree, so there a `__dirname` is a build error.
 * @param {string} outFile absolute path of the bundle
 * @param {boolean} selfContained true for the guest bundle
 * @returns {esbuild.Plugin}
 */
function sourceDirname(outFile, selfContained) {
  return {
    name: "source-dirname",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (/[\\/]node_modules[\\/]/.test(args.path)) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!/\b__dirname\b/.test(text)) return undefined;
        if (selfContained)
          throw new Error(
            `${relative(ROOT, args.path)} uses __dirname: the self-contained guest bundle has no source tree`,
          );
        const rel = relative(dirname(outFile), dirname(args.path)).split("\\").join("/");
        const contents =
          `import { join as __ci_join } from "node:path";\nconst __ci_dirname = __ci_join(__dirname, ${JSON.stringify(rel)});\n` +
          text.replace(/\b__dirname\b/g, "__ci_dirname");
        return { contents, loader: "ts" };
      });
    },
  };
}

/**
 * `bin/cli.ts` requires `./commands/<name>.js` lazily: each command is its own bundle, so the CLI
 * bundle keeps those requires as they are (dist/bin/cli.js -> dist/bin/commands/<name>.js).
 * @type {esbuild.Plugin}
 */
const lazyCommands = {
  name: "lazy-commands",
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) =>
      args.importer === join(ROOT, "bin", "cli.ts") ? { path: args.path, external: true } : undefined,
    );
  },
};

/**
 * onnxruntime-node loads `../bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node` by a computed
 * path: in the guest bundle it becomes `./onnxruntime_binding.node`, the copy beside the bundle.
 * @type {esbuild.Plugin}
 */
const ortBesideBundle = {
  name: "ort-beside-bundle",
  setup(build) {
    build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const pattern =
        /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/;
      if (!pattern.test(text))
        throw new Error(`${args.path}: the native binding require changed; update scripts/build.mjs`);
      return { contents: text.replace(pattern, 'require("./onnxruntime_binding.node")'), loader: "js" };
    });
    build.onResolve({ filter: /^\.\/onnxruntime_binding\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * @param {Entry} entry
 * @returns {esbuild.BuildOptions}
 */
function options(entry) {
  const outfile = join(DIST, entry.out);
  /** @type {esbuild.Plugin[]} */
  const plugins = [sourceDirname(outfile, entry.kind === "guest")];
  if (entry.in === "bin/cli.ts") plugins.push(lazyCommands);
  if (entry.kind === "guest") plugins.push(ortBesideBundle);
  return {
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry.in)],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: TARGET,
    // The guest bundle ships in the measured image: no map (it would embed every source).
    sourcemap: entry.kind === "guest" ? false : "linked",
    sourcesContent: false,
    ...(entry.kind === "library" ? { packages: "external" } : {}),
    ...(entry.kind === "app" ? { external: APP_EXTERNAL } : {}),
    metafile: true,
    write: false,
    logLevel: "silent",
    legalComments: "none",
    plugins,
  };
}

/** Writes `data` to `file` through a temp file and a rename (atomic on one file system). */
function writeAtomic(file, data) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * What a bundle was built from: its project sources (not node_modules) and the packages inlined
 * into it, from esbuild's metafile.
 * @param {esbuild.Metafile} metafile
 */
function bundleInputs(metafile) {
  const paths = Object.keys(metafile.inputs).filter((p) => !p.startsWith("<"));
  const packages = new Set();
  for (const p of paths) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p.slice(p.lastIndexOf("node_modules/")));
    if (m) packages.add(m[1]);
  }
  return {
    inputs: paths
      .filter((p) => !p.includes("node_modules/"))
      .map((p) => relative(ROOT, resolve(ROOT, p)).split("\\").join("/"))
      .sort(),
    packages: [...packages].sort(),
  };
}

/** Builds every entry; resolves with dist/build-info.json's content. */
export async function build() {
  const startedAt = Date.now();
  const results = await Promise.all(
    ENTRIES.map(async (entry) => {
      const r = await esbuild.build(options(entry));
      for (const f of r.outputFiles ?? []) writeAtomic(f.path, f.contents);
      return [entry.out, bundleInputs(r.metafile)];
    }),
  );
  const ortDir = join(ROOT, "node_modules/onnxruntime-node/bin/napi-v6", process.platform, process.arch);
  for (const name of ORT_NATIVE) {
    const to = join(DIST, "runtime/inference", name);
    copyFileSync(join(ortDir, name), `${to}.${process.pid}.tmp`);
    renameSync(`${to}.${process.pid}.tmp`, to);
  }
  const info = {
    comment: "written by scripts/build.mjs: what each bundle was built from (bin/dist.cjs checks the inputs)",
    startedAt,
    // Files whose change may change any bundle: the build itself and the locked dependencies.
    shared: ["scripts/build.mjs", "package.json", "package-lock.json", "tsconfig.json"],
    bundles: Object.fromEntries(results),
  };
  writeAtomic(join(DIST, "build-info.json"), `${JSON.stringify(info, null, 1)}\n`);
  return info;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  rmSync(join(DIST, "build-info.json"), { force: true });
  build().then(
    (info) => {
      if (!quiet)
        process.stdout.write(`built ${Object.keys(info.bundles).length} bundles into dist/ in ${Date.now() - t0} ms\n`);
    },
    (error) => {
      const errors = /** @type {{ errors?: esbuild.Message[] }} */ (error).errors;
      if (errors?.length) {
        const text = esbuild.formatMessagesSync(errors, { kind: "error", color: false });
        process.stderr.write(text.join(""));
      } else process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
