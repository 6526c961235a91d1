/**
 * The host inventory the preflight prints (`scripts/preflight.sh`), parsed strictly, and the checks
 * a deploy makes against it: the product the stack expects, the TCB floor, the chip allowlist.
 * Pure: takes the preflight's stdout.
 */
import { z } from "zod";
import { formatTcb, isBelow, type TcbComponents } from "../../measurements/drift/index.js";
import { problemsFromIssues } from "../../core/index.js";
import { ComponentError } from "../errors.js";

const svn = z.number().int().min(0).max(255);
const tcb = z.strictObject({ fmc: svn.optional(), bootloader: svn, tee: svn, snp: svn, microcode: svn });

const inventorySchema = z.strictObject({
  schema: z.literal(1),
  product: z.enum(["Milan", "Genoa", "Turin"]),
  cpu: z.strictObject({
    vendor: z.literal("AuthenticAMD"),
    family: z.number().int(),
    model: z.number().int(),
    modelName: z.string(),
  }),
  kernel: z.string(),
  chipId: z.string().regex(/^([0-9a-f]{16}|[0-9a-f]{128})$/),
  firmware: z.strictObject({ version: z.string().regex(/^[0-9]+\.[0-9]+$/) }),
  reportedTcb: tcb,
  platformTcb: tcb,
  iommuGroups: z.number().int().min(1),
});

/** What the preflight found on a host. */
export interface HostInventory {
  readonly product: "Milan" | "Genoa" | "Turin";
  readonly cpu: {
    readonly vendor: string;
    readonly family: number;
    readonly model: number;
    readonly modelName: string;
  };
  readonly kernel: string;
  /** CHIP_ID as an attestation report carries it: 128 lower-case hex (Turin: 8 bytes, zero-padded). */
  readonly chipId: string;
  /** SNP firmware API version, `major.minor`. */
  readonly firmware: { readonly version: string };
  /** The TCB the firmware reports to guests (what VCEKs are issued for). */
  readonly reportedTcb: TcbComponents;
  /** The TCB of the installed firmware (the one `snphost commit` would commit). */
  readonly platformTcb: TcbComponents;
  readonly iommuGroups: number;
}

/**
 * Parses the preflight's stdout.
 * @throws ComponentError `HOST_INVENTORY_INVALID` naming the host and every bad field.
 */
export function parseInventory(host: string, stdout: string): HostInventory {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (cause) {
    throw new ComponentError("HOST_INVENTORY_INVALID", `host ${host}: the preflight did not print JSON`, { cause });
  }
  const result = inventorySchema.safeParse(json);
  if (!result.success) {
    const problems = problemsFromIssues(result.error.issues);
    const fields = [...new Set(problems.map((p) => p.path))].join(", ");
    throw new ComponentError("HOST_INVENTORY_INVALID", `host ${host}: invalid inventory field(s): ${fields}`, {
      cause: result.error,
      problems,
    });
  }
  const { schema: _schema, ...inv } = result.data;
  return { ...inv, chipId: inv.chipId.padEnd(128, "0") } as HostInventory;
}

/** What the stack requires of a host. */
export interface HostRequirements {
  readonly product: "Milan" | "Genoa" | "Turin";
  /** Minimum reported TCB for this product; absent: no floor. */
  readonly tcbFloor?: TcbComponents;
  /** Accepted chip ids (128 hex); absent: any chip. */
  readonly chipAllowlist?: readonly string[];
}

/**
 * Checks an inventory against the stack's requirements.
 * @throws ComponentError `HOST_PRODUCT_MISMATCH`, `HOST_BELOW_TCB_FLOOR` or `HOST_CHIP_NOT_ALLOWED`.
 */
export function checkInventory(host: string, inventory: HostInventory, required: HostRequirements): HostInventory {
  if (inventory.product !== required.product) {
    throw new ComponentError(
      "HOST_PRODUCT_MISMATCH",
      `host ${host}: the stack says ${required.product} but the host is ${inventory.product}`,
    );
  }
  if (required.tcbFloor !== undefined && isBelow(inventory.reportedTcb, required.tcbFloor)) {
    throw new ComponentError(
      "HOST_BELOW_TCB_FLOOR",
      `host ${host}: reported TCB ${formatTcb(inventory.reportedTcb)} is below the ${required.product} floor ${formatTcb(required.tcbFloor)}: update the host firmware before deploying guests`,
    );
  }
  if (required.chipAllowlist !== undefined && !required.chipAllowlist.includes(inventory.chipId)) {
    throw new ComponentError(
      "HOST_CHIP_NOT_ALLOWED",
      `host ${host}: chip ${inventory.chipId.slice(0, 16)}... is not in attestation.chipAllowlist`,
    );
  }
  return inventory;
}
