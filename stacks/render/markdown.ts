/** A Markdown summary of a rendered state, for pull-request comments: outputs and a resource table. */
import type { RenderedState } from "./render.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** Formats a rendered state as Markdown. */
export function renderedMarkdown(state: RenderedState): string {
  const lines = [
    `# Desired state of stack \`${state.stack}\``,
    "",
    `${state.resourceCount} resources, rendered offline under Pulumi's mocks (\`attestctl render\`). Secrets show as \`[secret]\`, values only a deploy can know as \`[unknown]\`.`,
    "",
    "## Outputs",
    "",
    "```json",
    JSON.stringify(state.outputs, null, 2),
    "```",
    "",
    "## Resources",
    "",
    "| type | name | parent |",
    "| --- | --- | --- |",
    ...state.resources.map(
      (r) => `| \`${cell(r.type)}\` | \`${cell(r.name)}\` | ${r.parent === undefined ? "" : `\`${cell(r.parent)}\``} |`,
    ),
    "",
  ];
  return lines.join("\n");
}
