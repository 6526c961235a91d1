// Module boundaries (STYLE.md rules 1, 13): the layers of the house, lowest first. A module may import
// only modules of a lower layer, and only through their face (`index.ts`); modules of one layer never
// import each other. Generated as one `no-restricted-imports` block per source directory, because the
// rule sees import strings, and a relative string means a different module from each directory.
import { readdirSync } from "node:fs";
import { join, posix } from "node:path";

/** Layers, lowest first. */
export const LAYERS = [
  ["core"],
  ["measurements/snp", "runtime/observability", "runtime/ohttp", "runtime/http", "runtime/api-keys"],
  ["measurements/manifest", "images"],
  ["measurements/drift"],
  ["runtime/attestation"],
  ["runtime/kbs-protocol", "runtime/attestation-bundle"],
  ["runtime/attester", "runtime/client"],
  ["runtime/simulators"],
  ["runtime/keybroker", "runtime/inference", "runtime/gateway"],
  ["components"],
  ["stacks"],
  ["guardrails", "runtime/sandbox"],
  ["bin"],
];

const layerOf = new Map(LAYERS.flatMap((mods, i) => mods.map((m) => [m, i])));
const modules = [...layerOf.keys()].sort((a, b) => b.length - a.length);
const moduleOf = (dir) => modules.find((m) => dir === m || dir.startsWith(`${m}/`));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function directories(root, dir) {
  const out = [dir];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true }))
    if (e.isDirectory()) out.push(...directories(root, `${dir}/${e.name}`));
  return out;
}

/** One flat-config block per directory of every module. */
export function boundaryBlocks(root) {
  const tops = [...new Set(modules.map((m) => m.split("/")[0]))];
  const dirs = tops.flatMap((t) => {
    try {
      return directories(root, t);
    } catch {
      return [];
    }
  });
  const blocks = [];
  for (const dir of dirs) {
    const own = moduleOf(dir);
    if (own === undefined) continue;
    const patterns = [];
    for (const other of modules) {
      if (other === own || own.startsWith(`${other}/`) || other.startsWith(`${own}/`)) continue;
      let rel = posix.relative(dir, other);
      if (!rel.startsWith(".")) rel = `./${rel}`;
      if (layerOf.get(other) >= layerOf.get(own))
        patterns.push({
          regex: `^${escape(rel)}(/|$)`,
          message: `layering: ${own} (layer ${layerOf.get(own)}) may not import ${other} (layer ${layerOf.get(other)})`,
        });
      else
        patterns.push({
          regex: `^${escape(rel)}/(?!index\\.js$)`,
          message: `import ${other} through its face (${other}/index.ts)`,
        });
    }
    blocks.push({ files: [`${dir}/*.ts`], rules: { "no-restricted-imports": ["error", { patterns }] } });
  }
  return blocks;
}
