/**
 * The README is the front door and stays short; everything else lives in docs/, one page per topic.
 * Every relative link in README.md and docs/*.md must reach an existing file (and heading, for
 * `#anchors` into Markdown), and every docs page must be reachable from the README.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "../..");
const README = join(ROOT, "README.md");
const DOCS = join(ROOT, "docs");

/** Upper bounds for README.md: lines and bytes. */
const README_BUDGET = { lines: 300, bytes: 24 * 1024 } as const;

const read = (file: string): string => readFileSync(file, "utf8");
const docsPages = (): string[] =>
  readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join(DOCS, f));

/** Markdown without fenced code blocks (a `#` line there is no heading, a link no link). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** Markdown without fenced code blocks and inline code. */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, "");
}

/** Targets of inline links `[text](target)`, in order. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string);
}

/** GitHub's anchor for a heading text: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a Markdown file offers (duplicates get -1, -2, ... as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug((m[1] as string).replace(/`/g, ""));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Broken relative links of one file, as `target: reason`. */
function brokenLinks(file: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const [path = "", anchor] = target.split("#");
    const resolved = path === "" ? file : resolve(dirname(file), decodeURI(path));
    if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
      problems.push(`${target}: no such file`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith(".md") && statSync(resolved).isFile()) {
      if (!anchors(read(resolved)).has(anchor)) problems.push(`${target}: no heading #${anchor}`);
    }
  }
  return problems;
}

describe("README.md", () => {
  const readme = read(README);

  it(`stays under ${README_BUDGET.lines} lines and ${README_BUDGET.bytes} bytes`, () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(README_BUDGET.lines);
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_BUDGET.bytes);
  });

  it("shows the two quick-start commands", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm test");
  });

  it("links every docs/*.md page", () => {
    const linked = new Set(
      linkTargets(readme)
        .map((t) => t.split("#")[0] ?? "")
        .filter((t) => t.startsWith("docs/")),
    );
    const pages = docsPages().map((f) => relative(ROOT, f));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
    expect(pages.length).toBeGreaterThanOrEqual(14);
  });

  it("carries no error-code table (those live in docs/errors.md)", () => {
    expect(readme).not.toMatch(/^\| code \|/m);
    expect(readme).toContain("Error codes: [docs/errors.md](docs/errors.md)");
  });
});

describe("relative links", () => {
  it.each([README, ...docsPages()].map((f) => relative(ROOT, f)))("%s: every one resolves", (file) => {
    expect(brokenLinks(join(ROOT, file))).toEqual([]);
  });
});

describe("link helpers", () => {
  it("slug follows GitHub's anchors", () => {
    expect(
      [
        "Local sandbox (`attestctl sandbox`)",
        "Protocol (Trustee KBS attestation protocol 0.4.0)",
        "`npm run bench -- keybroker`",
        "Guest client (`runtime/attester/kbs/`)",
      ].map((h) => slug(h.replace(/`/g, ""))),
    ).toEqual([
      "local-sandbox-attestctl-sandbox",
      "protocol-trustee-kbs-attestation-protocol-040",
      "npm-run-bench----keybroker",
      "guest-client-runtimeattesterkbs",
    ]);
  });

  it("finds links outside code only, and numbers duplicate headings", () => {
    const md = "See [a](a.md#x) and `[b](b.md)`.\n\n```\n[c](c.md)\n```\n\n## X\n\n## X\n";
    expect(linkTargets(md)).toEqual(["a.md#x"]);
    expect([...anchors(md)]).toEqual(["x", "x-1"]);
  });
});
