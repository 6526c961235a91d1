/**
 * Records every resource registration of a Pulumi program run under the SDK's mocks: type, name,
 * parent, custom or component, and inputs exactly as the engine would receive them (secrets still
 * wrapped, unknowns marked). Used by `attestctl render` and by the component tests. Runtime state is
 * global: install once per process, before the program is loaded.
 */
import * as pulumi from "@pulumi/pulumi";

/** A parent resource, as named in its URN. */
export interface ParentRef {
  readonly type: string;
  readonly name: string;
}

/** One registration seen by the mocks. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  /** Absent for resources without a parent (the program's top level). */
  readonly parent?: ParentRef;
  /** False for component resources. */
  readonly custom: boolean;
  /** Inputs as the engine sees them (secrets wrapped; see `serialize.ts`). */
  readonly inputs: Record<string, unknown>;
  /** Resource options the engine receives that change how it deploys (absent when unset). */
  readonly options?: RecordedOptions;
}

/** Resource options seen on the way to the engine (the mocks themselves never see options). */
export interface RecordedOptions {
  readonly deleteBeforeReplace?: true;
  readonly ignoreChanges?: readonly string[];
}

/** Options of {@link installRecorder}. */
export interface RecorderOptions {
  /** Project name (config keys are read in this namespace). */
  readonly project: string;
  readonly stack: string;
  /**
   * Preview mode: values the mocks do not return stay unknown (like `pulumi preview`). Off, every
   * provider-computed output comes from `computed`.
   */
  readonly preview: boolean;
  /** The stack's config map (`namespace:key` -> engine string). */
  readonly config: Readonly<Record<string, string>>;
  /** Config keys the engine would mark secret. */
  readonly secretKeys: Iterable<string>;
  /**
   * Provider-computed outputs to return for a resource (merged over its inputs), e.g. a
   * command's `stdout` or a key's `privateKeyPem`. Absent: inputs are echoed.
   */
  readonly computed?: (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
  ) => Record<string, unknown> | undefined;
}

/** Parses `urn:pulumi:stack::project::a$b$type::name` into the resource's type and name. */
export function parseUrn(urn: string): ParentRef | undefined {
  const parts = urn.split("::");
  if (parts.length < 4) return undefined;
  const typeChain = parts[2] ?? "";
  const name = parts.slice(3).join("::");
  return { type: typeChain.split("$").at(-1) ?? typeChain, name };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDeletebeforereplace?(): boolean;
  getIgnorechangesList?(): string[];
}

interface MonitorLike {
  registerResource(req: RegisterRequest, callback: unknown): unknown;
}

/**
 * Installs the mocks and returns the live list of registrations (filled as the program runs).
 * @example
 * const registrations = await installRecorder({ project: "confidential-inference", stack: "dev", preview: true, config, secretKeys });
 * require("../main.js");
 */
export async function installRecorder(options: RecorderOptions): Promise<Registration[]> {
  const registrations: Registration[] = [];
  const parents = new Map<string, string>();
  const recordedOptions = new Map<string, RecordedOptions>();
  pulumi.runtime.setAllConfig({ ...options.config }, [...options.secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const parentUrn = parents.get(`${args.type}::${args.name}`);
        const parent = parentUrn ? parseUrn(parentUrn) : undefined;
        const opts = recordedOptions.get(`${args.type}::${args.name}`);
        registrations.push({
          type: args.type,
          name: args.name,
          custom: args.custom !== false,
          inputs,
          ...(parent ? { parent } : {}),
          ...(opts ? { options: opts } : {}),
        });
        const extra = options.computed?.(args.type, args.name, inputs);
        return { id: `${args.name}-id`, state: { ...inputs, ...(extra ?? {}) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    options.project,
    options.stack,
    options.preview,
  );
  // The parent URN and the resource options reach the monitor but not the mocks: capture them on the way in.
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}::${req.getName()}`;
    parents.set(key, req.getParent());
    const dbr = req.getDeletebeforereplace?.() === true;
    const ignore = req.getIgnorechangesList?.() ?? [];
    if (dbr || ignore.length > 0)
      recordedOptions.set(key, {
        ...(dbr ? { deleteBeforeReplace: true as const } : {}),
        ...(ignore.length > 0 ? { ignoreChanges: ignore } : {}),
      });
    return register(req, callback);
  };
  return registrations;
}
