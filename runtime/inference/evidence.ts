/**
 * The runtime's evidence provider from plain options (the `evidence` object of its `keyBroker` and
 * `attestation` config sections): `simulated-snp` (dev: the simulated platform in `dir`, claiming
 * `measurement` and optionally a `reportedTcb` or a `debug` policy), `configfs-tsm` (optional
 * `root`) or `snpguest` (optional `binary`): the attester's providers. One seam for the KBS
 * handshake and for the attestation bundles of confidential requests.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { configfsTsmProvider, snpguestProvider, type EvidenceProvider } from "../attester/index.js";
import { SimulatedSnp, simulatedProvider } from "../simulators/index.js";

const tcb = z.strictObject({
  bootloader: z.number().int(),
  tee: z.number().int(),
  snp: z.number().int(),
  microcode: z.number().int(),
  fmc: z.number().int().optional(),
});

/** Schema of the `evidence` options. */
export const evidenceOptionsSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("simulated-snp"),
    dir: z.string().min(1),
    measurement: z.string().regex(/^[0-9a-f]{96}$/),
    reportedTcb: tcb.optional(),
    debug: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal("configfs-tsm"), root: z.string().min(1).optional() }),
  z.strictObject({ kind: z.literal("snpguest"), binary: z.string().min(1).optional() }),
]);

/** Parsed `evidence` options. */
export type EvidenceOptions = z.infer<typeof evidenceOptionsSchema>;

/**
 * The provider for validated options; a simulated platform is opened on first use and kept.
 * Relative paths resolve against `baseDir`.
 *
 * @example const provider = evidenceProviderFor({ kind: "configfs-tsm" }, "/etc/runtime");
 */
export function evidenceProviderFor(e: EvidenceOptions, baseDir: string): EvidenceProvider {
  if (e.kind === "configfs-tsm") return configfsTsmProvider(e.root ? { root: e.root } : {});
  if (e.kind === "snpguest") return snpguestProvider(e.binary ? { binary: e.binary } : {});
  let opened: Promise<EvidenceProvider> | undefined;
  return {
    name: "simulated",
    async getEvidence(request) {
      opened ??= SimulatedSnp.open({ dir: resolve(baseDir, e.dir) }).then((sim) =>
        simulatedProvider(sim, {
          measurement: e.measurement,
          ...(e.reportedTcb ? { reportedTcb: e.reportedTcb } : {}),
          ...(e.debug ? { policy: { smt: true, debug: true } } : {}),
        }),
      );
      opened.catch(() => (opened = undefined));
      return (await opened).getEvidence(request);
    },
  };
}
