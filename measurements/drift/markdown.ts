/**
 * Renders a manifest comparison as Markdown for a pull-request comment: findings, then one table
 * per concern (artifacts with the measurements they affect, launch shapes with the inputs that
 * changed, TCB floors, policy and allowlists, release metadata). Digests are abbreviated
 * (`39765afe…58c0`); the JSON form (`golden diff --format json`) carries them in full.
 */
import type { GoldenManifest } from "../manifest/index.js";
import type { DriftFinding } from "./errors.js";
import type { AffectedShape, ManifestChange, ManifestComparison } from "./compare.js";
import { formatTcb } from "./tcb.js";

/** `39765afe…58c0`: first 8 and last 4 hex characters. */
export function abbreviate(hex: string): string {
  return hex.length <= 16 ? hex : `${hex.slice(0, 8)}…${hex.slice(-4)}`;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

const LAUNCH_KINDS: readonly string[] = ["firmware", "kernel", "initrd", "svsm"];

function affectedCell(kind: string, affected: readonly AffectedShape[], digestChanged = true): string {
  if (!LAUNCH_KINDS.includes(kind)) return "none (not a launch input)";
  if (!digestChanged) return "none (digest unchanged)";
  if (affected.length === 0) return "none (no launch shape uses it)";
  return affected
    .map((a) => {
      if (a.before === undefined) return `${code(a.shape)}: new ${code(abbreviate(a.after ?? ""))}`;
      if (a.after === undefined) return `${code(a.shape)}: removed`;
      if (a.before === a.after) return `${code(a.shape)} (unchanged)`;
      return `${code(a.shape)}: ${code(abbreviate(a.before))} → ${code(abbreviate(a.after))}`;
    })
    .join("<br>");
}

function artifactRows(changes: readonly ManifestChange[]): string[][] {
  const rows: string[][] = [];
  for (const c of changes) {
    if (c.kind === "artifact-added")
      rows.push([
        `${code(c.name)} (${c.after.kind})`,
        "— (added)",
        code(abbreviate(c.after.sha256)),
        affectedCell(c.after.kind, c.affected),
      ]);
    else if (c.kind === "artifact-removed")
      rows.push([
        `${code(c.name)} (${c.before.kind})`,
        code(abbreviate(c.before.sha256)),
        "— (removed)",
        affectedCell(c.before.kind, c.affected),
      ]);
    else if (c.kind === "artifact-changed") {
      const other = c.fields.filter((f) => f !== "sha256");
      const note =
        other.length === 0
          ? ""
          : `<br>changed: ${other.map((f) => (f === "source" ? `source ${code(cell(c.after.source))}` : f === "size" ? `size ${c.before.size} → ${c.after.size}` : `kind ${c.before.kind} → ${c.after.kind}`)).join(", ")}`;
      rows.push([
        `${code(c.name)} (${c.after.kind})${note}`,
        code(abbreviate(c.before.sha256)),
        c.fields.includes("sha256") ? code(abbreviate(c.after.sha256)) : "unchanged",
        affectedCell(c.after.kind, c.affected, c.fields.includes("sha256")),
      ]);
    }
  }
  return rows;
}

function shapeRows(changes: readonly ManifestChange[]): string[][] {
  const rows: string[][] = [];
  for (const c of changes) {
    if (c.kind === "shape-added")
      rows.push([code(c.name), "— (added)", code(abbreviate(c.after.measurement)), "new shape"]);
    else if (c.kind === "shape-removed")
      rows.push([code(c.name), code(abbreviate(c.before.measurement)), "— (removed)", "shape removed"]);
    else if (c.kind === "shape-changed") {
      const inputs = [...c.causes, ...c.otherInputs.map((o) => `${o} (not measured)`)].join(", ");
      rows.push([
        code(c.name),
        code(abbreviate(c.before.measurement)),
        c.measurementChanged ? code(abbreviate(c.after.measurement)) : "unchanged",
        inputs === "" ? "—" : inputs,
      ]);
    }
  }
  return rows;
}

function otherRows(changes: readonly ManifestChange[]): {
  floors: string[][];
  policy: string[][];
  release: string[][];
} {
  const floors: string[][] = [];
  const policy: string[][] = [];
  const release: string[][] = [];
  for (const c of changes) {
    if (c.kind === "floor-changed")
      floors.push([
        c.product,
        c.before === undefined ? "— (none)" : formatTcb(c.before),
        c.after === undefined ? "— (none)" : formatTcb(c.after),
      ]);
    else if (c.kind === "set-changed") {
      const size = (v: readonly string[] | undefined) =>
        v === undefined ? "any (not constrained)" : `${v.length} value${v.length === 1 ? "" : "s"}`;
      const delta = [
        ...c.added.map((v) => `+${code(abbreviate(v))}`),
        ...c.removed.map((v) => `−${code(abbreviate(v))}`),
      ].join(" ");
      policy.push([c.field, size(c.before), `${size(c.after)}${delta === "" ? "" : ` (${delta})`}`]);
    } else if (c.kind === "field-changed") {
      const row = [c.field, code(String(c.before)), code(String(c.after))];
      (c.field === "allowedPolicyBits" ? policy : release).push(row);
    }
  }
  return { floors, policy, release };
}

/**
 * Renders `compareManifests(oldManifest, newManifest)` as Markdown (ends with a newline).
 * @example io.stdout(renderComparisonMarkdown(before, after, compareManifests(before, after)));
 */
export function renderComparisonMarkdown(
  oldManifest: GoldenManifest,
  newManifest: GoldenManifest,
  comparison: ManifestComparison,
): string {
  const lines: string[] = [
    `### Golden manifest diff: ${newManifest.environment} ${code(oldManifest.release)} → ${code(newManifest.release)}`,
    "",
  ];
  const { errors, warnings, changes } = comparison;
  if (changes.length === 0) return `${[...lines, "No changes: the expected measurements are identical."].join("\n")}\n`;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  lines.push(
    `**${count(errors.length, "error")}, ${count(warnings.length, "warning")}, ${count(changes.length, "change")}**`,
    "",
  );
  if (errors.length + warnings.length > 0) {
    const row = (severity: string, f: DriftFinding) => [
      severity,
      code(f.code),
      f.path === "" ? "—" : code(f.path),
      cell(f.message),
    ];
    lines.push(
      ...table(
        ["severity", "code", "where", "message"],
        [...errors.map((f) => row("error", f)), ...warnings.map((f) => row("warning", f))],
      ),
      "",
    );
  }
  const sections: [string, readonly string[], string[][]][] = [
    ["Artifacts", ["artifact", "old digest", "new digest", "affected measurements"], artifactRows(changes)],
    ["Launch shapes", ["shape", "old measurement", "new measurement", "changed inputs"], shapeRows(changes)],
  ];
  const other = otherRows(changes);
  sections.push(["TCB floors", ["product", "old floor", "new floor"], other.floors]);
  sections.push(["Policy and allowlists", ["field", "old", "new"], other.policy]);
  sections.push(["Release", ["field", "old", "new"], other.release]);
  for (const [title, head, rows] of sections) {
    if (rows.length === 0) continue;
    lines.push(`#### ${title}`, "", ...table(head, rows), "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
