/**
 * The simulated SNP signer (sandbox, dev stack, tests): a generated ARK (RSA-4096) -> ASK/ASVK
 * (RSA-4096) -> VCEK/VLEK (EC P-384) chain persisted in a directory, and byte-exact
 * ATTESTATION_REPORTs signed for a given measurement, policy, TCB, chip id and report data. The
 * real verifier runs unchanged on its output and accepts it only when the caller trusts the
 * simulated anchor (`allowedRoots: ["simulated"]`), which production configs refuse.
 *
 * Directory layout (also an offline KDS directory for `directoryGetter`):
 * ```
 * simulator.json                 product, chip id, creation time (public)
 * ark.pem ask.pem asvk.pem       the simulated roots (AMD tooling names)
 * secrets/                       RSA keys and chip/VLEK seeds (mode 0700; never leave this machine)
 * vcek/v1/<P>/cert_chain         ASK + ARK        vlek/v1/<P>/cert_chain   ASVK + ARK
 * vcek/v1/<P>/<chip>/<query>     VCEKs, created on first use per chip and TCB
 * ```
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  sign as cryptoSign,
  type KeyObject,
} from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { TcbComponents } from "../../../measurements/drift/index.js";
import {
  CERT_TABLE_GUID,
  serializeCertTable,
  isSnpProduct,
  type SnpProduct,
  signatureFromP1363,
  kdsCertChainPath,
  kdsVcekPath,
  type CollateralGetter,
  directoryGetter,
  kdsPathToFile,
  trustAnchor,
  type TrustAnchor,
  type SnpCollateral,
} from "../../attestation/index.js";
import {
  buildCertificate,
  buildCrl,
  rsaPssSha384Signer,
  toPem,
  writeFileAtomic,
  type CertificateSpec,
} from "../../../core/index.js";
import { buildSimulatedReport, type SimulatedReportInput } from "./report.js";
import { amdName, buildSimulatedRoots, buildSimulatedVek, deriveP384Key, vekLabel } from "./certs.js";

const DAY_MS = 86_400_000;
const generateKeyPairAsync = promisify(generateKeyPair);

/** Options of {@link openSimulatedSnp}. */
export interface SimulatedSnpOptions {
  /** Directory that holds (or will hold) the simulated chain. Created when missing. */
  readonly dir: string;
  /** Product line to simulate when creating (default `Genoa`); an existing directory must match. */
  readonly product?: SnpProduct;
  /** Clock for certificate validity (default: the current time). */
  readonly now?: Date;
  /** RSA modulus length of ARK/ASK/ASVK (default 4096, as AMD). */
  readonly rsaModulusBits?: number;
}

/** A signed simulated report with everything a verifier needs. */
export interface SimulatedEvidence {
  /** The 1184-byte report. */
  readonly report: Buffer;
  /** The VCEK or VLEK that signed it (DER). */
  readonly vek: Buffer;
  /** VEK, intermediate and ARK as `verifySnpEvidence` collateral. */
  readonly collateral: Required<Pick<SnpCollateral, "vek" | "intermediate" | "ark">>;
  /** The extended-report certificate table (VEK, ASK/ASVK, ARK), as configfs-tsm `auxblob` carries it. */
  readonly certTable: Buffer;
}

interface Meta {
  readonly version: 1;
  readonly product: SnpProduct;
  readonly chipId: string;
  readonly created: string;
}

const keyPem = (k: KeyObject): string => k.export({ type: "pkcs8", format: "pem" }) as string;

async function create(dir: string, product: SnpProduct, now: Date, bits: number): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const rsa = () => generateKeyPairAsync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
  const [ark, ask, asvk] = await Promise.all([rsa(), rsa(), rsa()]);
  const notBefore = new Date(now.getTime() - DAY_MS);
  const serialBase = BigInt(`0x${randomBytes(6).toString("hex")}`) << 16n;
  const certs = buildSimulatedRoots(
    product,
    { ark: ark.privateKey, ask: ask.privateKey, asvk: asvk.privateKey },
    notBefore,
    serialBase,
  );
  const chipId = product === "Turin" ? Buffer.concat([randomBytes(8), Buffer.alloc(56)]) : randomBytes(64);
  const meta: Meta = { version: 1, product, chipId: chipId.toString("hex"), created: now.toISOString() };
  await mkdir(join(tmp, "secrets"), { recursive: true, mode: 0o700 });
  await writeFile(join(tmp, "simulator.json"), `${JSON.stringify(meta, null, 2)}\n`);
  await writeFile(join(tmp, "ark.pem"), toPem(certs.ark));
  await writeFile(join(tmp, "ask.pem"), toPem(certs.ask));
  await writeFile(join(tmp, "asvk.pem"), toPem(certs.asvk));
  for (const [name, k] of [
    ["ark", ark.privateKey],
    ["ask", ask.privateKey],
    ["asvk", asvk.privateKey],
  ] as const) {
    await writeFile(join(tmp, "secrets", `${name}.key.pem`), keyPem(k), { mode: 0o600 });
  }
  await writeFile(join(tmp, "secrets", "chip.seed"), randomBytes(32), { mode: 0o600 });
  await writeFile(join(tmp, "secrets", "vlek.seed"), randomBytes(32), { mode: 0o600 });
  for (const chain of ["vcek", "vlek"] as const) {
    const file = join(tmp, kdsPathToFile(kdsCertChainPath(product, chain)));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, toPem(chain === "vcek" ? certs.ask : certs.asvk) + toPem(certs.ark));
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    // Another process created the directory first: use theirs.
    await rm(tmp, { recursive: true, force: true });
    if (!["EEXIST", "ENOTEMPTY"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
  }
}

/** A loaded simulated SNP platform. */
export class SimulatedSnp {
  private readonly vekCache = new Map<string, { readonly der: Buffer; readonly key: KeyObject }>();

  private constructor(
    /** The directory holding the chain. */
    readonly dir: string,
    /** Simulated product line. */
    readonly product: SnpProduct,
    /** The simulated chip's CHIP_ID (64 bytes; Turin: 8 significant bytes). */
    readonly chipId: Buffer,
    private readonly keys: {
      readonly ark: KeyObject;
      readonly ask: KeyObject;
      readonly asvk: KeyObject;
      readonly chipSeed: Buffer;
      readonly vlekSeed: Buffer;
    },
    /** DER of ARK, ASK and ASVK. */
    readonly roots: { readonly ark: Buffer; readonly ask: Buffer; readonly asvk: Buffer },
    private readonly now: () => Date,
  ) {}

  /** Loads the chain in `options.dir`, creating (and persisting) it first when the directory does not exist. */
  static async open(options: SimulatedSnpOptions): Promise<SimulatedSnp> {
    const nowFn = () => options.now ?? new Date();
    let metaText: string;
    try {
      metaText = await readFile(join(options.dir, "simulator.json"), "utf8");
    } catch {
      await create(options.dir, options.product ?? "Genoa", nowFn(), options.rsaModulusBits ?? 4096);
      metaText = await readFile(join(options.dir, "simulator.json"), "utf8");
    }
    const meta = JSON.parse(metaText) as Meta;
    if (meta.version !== 1 || !isSnpProduct(meta.product))
      throw new TypeError(`SimulatedSnp: ${options.dir}/simulator.json is not a simulator description`);
    if (options.product && options.product !== meta.product)
      throw new TypeError(`SimulatedSnp: ${options.dir} simulates ${meta.product}, not ${options.product}`);
    const read = (f: string) => readFile(join(options.dir, f));
    const key = async (name: string) =>
      createPrivateKey(await readFile(join(options.dir, "secrets", `${name}.key.pem`), "utf8"));
    const fromPem = (b: Buffer) => Buffer.from(b.toString("latin1").replace(/-----[^-]+-----|\s/g, ""), "base64");
    const [ark, ask, asvk] = await Promise.all([read("ark.pem"), read("ask.pem"), read("asvk.pem")]);
    const keys = {
      ark: await key("ark"),
      ask: await key("ask"),
      asvk: await key("asvk"),
      chipSeed: await read("secrets/chip.seed"),
      vlekSeed: await read("secrets/vlek.seed"),
    };
    return new SimulatedSnp(
      options.dir,
      meta.product,
      Buffer.from(meta.chipId, "hex"),
      keys,
      { ark: fromPem(ark), ask: fromPem(ask), asvk: fromPem(asvk) },
      nowFn,
    );
  }

  /** The trust anchor (id `simulated`) a verifier needs to accept this platform's reports. */
  anchor(): TrustAnchor {
    return trustAnchor("simulated", this.product, this.roots);
  }

  /** A collateral getter over this directory (offline KDS layout). */
  getter(): CollateralGetter {
    return directoryGetter(this.dir);
  }

  /** The VCEK (DER) for a chip and reported TCB, created and stored on first use. */
  async vcek(tcb: TcbComponents, chipId: Uint8Array = this.chipId): Promise<Buffer> {
    return (await this.vek("vcek", tcb, chipId)).der;
  }

  private async vek(
    role: "vcek" | "vlek",
    tcb: TcbComponents,
    chipId: Uint8Array,
  ): Promise<{ readonly der: Buffer; readonly key: KeyObject }> {
    const label = vekLabel(role, this.product, role === "vcek" ? chipId : "vlek", tcb);
    const cached = this.vekCache.get(label);
    if (cached) return cached;
    const key = deriveP384Key(role === "vcek" ? this.keys.chipSeed : this.keys.vlekSeed, label);
    const file = join(
      this.dir,
      role === "vcek"
        ? kdsPathToFile(kdsVcekPath(this.product, chipId, tcb))
        : join("vlek", "issued", label.replace(/\|/g, "_")),
    );
    let der: Buffer;
    try {
      der = await readFile(file);
    } catch {
      const spec = {
        role,
        product: this.product,
        tcb,
        chipId,
        publicKey: createPublicKey(key),
        notBefore: new Date(this.now().getTime() - DAY_MS),
      };
      der = buildSimulatedVek(spec, role === "vcek" ? this.keys.ask : this.keys.asvk);
      writeFileAtomic(file, der, 0o644);
    }
    const entry = { der, key };
    this.vekCache.set(label, entry);
    return entry;
  }

  /**
   * Signs a report. Unset fields take realistic defaults for the product (policy 0x30000, VMPL 0,
   * report version 5, this chip's id, a current TCB); see {@link SimulatedReportInput}.
   *
   * @example
   * const sim = await SimulatedSnp.open({ dir: ".sandbox/snp" });
   * const ev = await sim.sign({ measurement, reportData });
   * await verifySnpEvidence({ report: ev.report, collateral: ev.collateral, anchors: [sim.anchor()], now });
   */
  async sign(input: SimulatedReportInput): Promise<SimulatedEvidence> {
    const signer = input.signer ?? "vcek";
    const fields = buildSimulatedReport(this.product, this.chipId, input);
    const { der: vek, key: priv } = await this.vek(signer, fields.reportedTcbComponents, input.chipId ?? this.chipId);
    const unsigned = fields.serialize({ r: Buffer.alloc(72), s: Buffer.alloc(72) });
    const p1363 = cryptoSign("sha384", unsigned.subarray(0, 0x2a0), { key: priv, dsaEncoding: "ieee-p1363" });
    const report = fields.serialize(signatureFromP1363(p1363));
    const intermediate = signer === "vcek" ? this.roots.ask : this.roots.asvk;
    const certTable = serializeCertTable([
      { guid: signer === "vcek" ? CERT_TABLE_GUID.vcek : CERT_TABLE_GUID.vlek, data: vek },
      { guid: CERT_TABLE_GUID.ask, data: intermediate },
      { guid: CERT_TABLE_GUID.ark, data: this.roots.ark },
    ]);
    return { report, vek, collateral: { vek, intermediate, ark: this.roots.ark }, certTable };
  }

  /** The public key of the VCEK (or VLEK) for a TCB and chip: lets tests issue altered certificates for the same key. */
  async vekPublicKey(
    tcb: TcbComponents,
    options: { readonly chipId?: Uint8Array; readonly role?: "vcek" | "vlek" } = {},
  ): Promise<KeyObject> {
    return createPublicKey((await this.vek(options.role ?? "vcek", tcb, options.chipId ?? this.chipId)).key);
  }

  /** Signs an arbitrary certificate with one of the simulated CA keys (tests of certificate defects). */
  signCertificate(spec: CertificateSpec, issuer: "ark" | "ask" | "asvk"): Buffer {
    return buildCertificate(spec, rsaPssSha384Signer(this.keys[issuer]));
  }

  /** An ARK-signed CRL (DER) revoking the given intermediate serials (tests of revocation handling). */
  crl(options: { readonly revoked?: readonly bigint[]; readonly thisUpdate: Date; readonly nextUpdate: Date }): Buffer {
    return buildCrl(
      {
        issuer: amdName(`ARK-${this.product}`),
        thisUpdate: options.thisUpdate,
        nextUpdate: options.nextUpdate,
        revoked: (options.revoked ?? []).map((serial) => ({ serial, date: options.thisUpdate })),
      },
      rsaPssSha384Signer(this.keys.ark),
    );
  }
}
