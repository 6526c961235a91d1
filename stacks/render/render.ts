/**
 * Renders a Pulumi program's desired state offline: runs it under the SDK's mocks in preview mode
 * (values only a deploy can know stay unknown) and returns every resource (type, name, parent,
 * inputs with secrets masked) and the stack outputs, as deterministic JSON for pull-request review.
 * Pulumi's runtime state is global: call once per process (`worker.ts` runs in a child process).
 */
import { createHash } from "node:crypto";
import { installRecorder, type Registration } from "./recorder.js";
import { maskForReview, renderOutput } from "./serialize.js";

/** One resource of the rendered state. */
export interface RenderedResourceEntry {
  readonly type: string;
  readonly name: string;
  /** `type::name` of the parent; absent at the top level. */
  readonly parent?: string;
  /** False for component resources. */
  readonly custom: boolean;
  /** Inputs with secrets as `"[secret]"`, deploy-time values as `"[unknown]"`, embedded scripts summarised. */
  readonly inputs: unknown;
  /** Deployment-relevant resource options (`deleteBeforeReplace`, `ignoreChanges`), when set. */
  readonly options?: Record<string, unknown>;
}

/** The rendered desired state of one stack. */
export interface RenderedState {
  readonly project: string;
  readonly stack: string;
  readonly resourceCount: number;
  readonly resources: RenderedResourceEntry[];
  readonly outputs: Record<string, unknown>;
}

/**
 * Command lines that embed one of the shipped scripts (`components/host/scripts/*.sh`) are shown as
 * length, digest and first line: the scripts are reviewed as files, and a changed script still
 * shows as a changed digest. Everything else (unit files, configs) is shown in full.
 */
export const EMBEDDED_SCRIPT = "bash -c '#!/usr/bin/env bash";

function summariseLongText(value: unknown): unknown {
  if (typeof value === "string" && value.includes(EMBEDDED_SCRIPT)) {
    const digest = createHash("sha256").update(value).digest("hex");
    return `[${value.length} characters, sha256 ${digest}] ${value.split("\n", 1)[0]?.slice(0, 120) ?? ""}`;
  }
  if (Array.isArray(value)) return value.map(summariseLongText);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, summariseLongText(v)]));
  return value;
}

/** The rendered form of one registration. */
export function renderRegistration(r: Registration): RenderedResourceEntry {
  return {
    type: r.type,
    name: r.name,
    ...(r.parent === undefined ? {} : { parent: `${r.parent.type}::${r.parent.name}` }),
    custom: r.custom,
    inputs: summariseLongText(maskForReview(r.inputs)),
    ...(r.options === undefined ? {} : { options: { ...r.options } }),
  };
}

/**
 * Makes this process cheap to render in: the Pulumi SDK captures a stack trace for every resource
 * and most promises (diagnostics only), which with tsx's source maps dominates a mocked run (4x at
 * 1,300 resources). A render process has no use for them; errors still carry their messages.
 */
export function configureRenderProcess(): void {
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
}

/** Options of {@link renderProgram}. */
export interface RenderOptions {
  readonly project: string;
  readonly stack: string;
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: Iterable<string>;
  /** Loads the program after the mocks are installed and returns its exports (the stack outputs). */
  readonly load: () => Record<string, unknown>;
}

/** Waits until no registration is pending (the SDK's RPC queue is drained and the count is stable). */
export async function drain(registrations: readonly Registration[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- waitForRPCs is internal to the SDK's settings module
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let seen = -1;
  while (seen !== registrations.length) {
    seen = registrations.length;
    await settings.waitForRPCs();
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  }
}

/**
 * Runs the program under mocks and returns its rendered state.
 * @example
 * const state = await renderProgram({ project: "confidential-inference", stack: "dev", config, secretKeys, load: () => require("../main.js") });
 */
export async function renderProgram(options: RenderOptions): Promise<RenderedState> {
  const registrations = await installRecorder({
    project: options.project,
    stack: options.stack,
    preview: true,
    config: options.config,
    secretKeys: options.secretKeys,
  });
  const exports = options.load();
  const outputs: Record<string, unknown> = {};
  for (const key of Object.keys(exports).sort()) outputs[key] = summariseLongText(await renderOutput(exports[key]));
  await drain(registrations);
  const resources = registrations
    .map(renderRegistration)
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  return { project: options.project, stack: options.stack, resourceCount: resources.length, resources, outputs };
}
