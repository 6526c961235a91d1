/**
 * The sandbox's first run, in two halves around the key broker's first start:
 *
 * 1. `prepareFirstRun`: the simulated SNP platform, the guest artifacts, the bundled model sealed
 *    (AES-256-GCM, fresh data key held only in memory) and signed (fresh registry key, private part
 *    discarded), the golden manifest signed with the sandbox's release key, the PKI and the HSM PIN;
 * 2. `importIntoBroker`: through the broker's admin API (mTLS, operator certificate), the signed
 *    manifest and the data key (wrapped at once under the HSM's KEK); then `provisioned.json`.
 *
 * A first run interrupted before `provisioned.json` is started over (the simulated platform is kept).
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SimulatedSnp, SIMULATED_DEFAULT_TCB, buildBundledChatModel, buildBundledModels } from "../simulators/index.js";
import { sealAndSignModel, sealAndSignModelDirectory } from "../inference/index.js";
import { formatManifest } from "../../measurements/manifest/index.js";
import { SANDBOX_MODEL, SANDBOX_OPENAI_MODELS, type Provisioned, type ProvisionedModel } from "./configs.js";
import { SandboxError } from "./errors.js";
import { computeSandboxGolden, signSandboxManifest } from "./golden.js";
import { sendRequest } from "./http.js";
import { modelFiles, PUBLIC_FILE_MODE, type SandboxLayout } from "./layout.js";
import { writeFileAtomic } from "../../core/index.js";
import { createCa, issueCert, type IssuedCert } from "./pki.js";

/** What the first half hands to the second: the data key (in memory only) and the signed manifest. */
export interface PendingProvision {
  readonly provisioned: Provisioned;
  readonly jws: string;
  /** Data keys by key id (the broker resource), in memory only until imported. */
  readonly dataKeys: ReadonlyMap<string, Buffer>;
}

/** Reads `provisioned.json`; absent when the first run has not completed. Throws STATE_INVALID when unreadable. */
export function readProvisioned(layout: SandboxLayout): Provisioned | undefined {
  if (!existsSync(layout.provisioned)) return undefined;
  try {
    const p = JSON.parse(readFileSync(layout.provisioned, "utf8")) as Provisioned;
    if (p.version !== 1 || !/^[0-9a-f]{96}$/.test(p.measurement)) throw new Error("unknown format");
    return p;
  } catch (e) {
    throw new SandboxError(
      "STATE_INVALID",
      `${layout.provisioned} is unreadable (${(e as Error).message}): remove ${layout.root} and start again`,
      { cause: e },
    );
  }
}

/** Removes what an interrupted first run left, except the simulated platform and the logs. */
function clearPartial(layout: SandboxLayout): void {
  if (!existsSync(layout.root)) return;
  for (const entry of readdirSync(layout.root)) {
    if (entry !== "snp" && entry !== "logs") rmSync(join(layout.root, entry), { recursive: true, force: true });
  }
}

function writePair(files: { cert: string; key: string }, issued: IssuedCert): void {
  writeFileAtomic(files.cert, issued.certPem, PUBLIC_FILE_MODE);
  writeFileAtomic(files.key, issued.keyPem);
}

/** First half of the first run (no broker needed). `say` reports progress, one line per step. */
export async function prepareFirstRun(
  layout: SandboxLayout,
  say: (line: string) => void,
  now = new Date(),
): Promise<PendingProvision> {
  clearPartial(layout);
  mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  for (const d of [layout.logs.dir, layout.run.dir, layout.config.dir, layout.keybroker.dir])
    mkdirSync(d, { recursive: true, mode: 0o700 });

  let t = Date.now();
  const existed = existsSync(join(layout.snp, "simulator.json"));
  const sim = await SimulatedSnp.open({ dir: layout.snp, product: "Genoa" });
  say(
    existed
      ? `simulated SEV-SNP platform: reusing ${sim.product} chip ${sim.chipId.toString("hex").slice(0, 16)}… in ${layout.snp}`
      : `simulated SEV-SNP platform: ${sim.product} ARK -> ASK -> VCEK chain (RSA-4096, P-384) and chip id created in ${layout.snp} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );

  t = Date.now();
  const files = new Map(buildBundledModels().map((f) => [f.name, f]));
  const onnx = files.get("sentiment.onnx");
  const tokenizer = files.get("tokenizer.json");
  if (!onnx || !tokenizer)
    throw new SandboxError(
      "PROVISION_FAILED",
      "the bundled model build did not produce sentiment.onnx and tokenizer.json",
    );
  const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const dataKey = randomBytes(32);
  const sealed = await sealAndSignModel({
    plaintext: onnx.bytes,
    modelName: SANDBOX_MODEL.name,
    keyId: SANDBOX_MODEL.keyId,
    dataKey,
    signerKey: registry.privateKey,
  });
  writeFileAtomic(layout.models.container, sealed.container, PUBLIC_FILE_MODE);
  writeFileAtomic(layout.models.signature, `${sealed.signature}\n`, PUBLIC_FILE_MODE);
  writeFileAtomic(layout.models.tokenizer, tokenizer.bytes, PUBLIC_FILE_MODE);
  writeFileAtomic(
    layout.models.signerPublicKey,
    registry.publicKey.export({ type: "spki", format: "pem" }) as string,
    PUBLIC_FILE_MODE,
  );
  say(
    `model: bundled sentiment classifier (sha256 ${sealed.modelSha256.slice(0, 12)}…) encrypted with a fresh AES-256-GCM data key and signed ES384 by a fresh registry key -> ${layout.models.container} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );

  t = Date.now();
  const dataKeys = new Map([[SANDBOX_MODEL.keyId, dataKey]]);
  const openai = await sealOpenAiModels(layout, files, registry.privateKey, dataKeys);
  say(
    `models of the OpenAI API: bundled chat model (a sealed directory of ${openai[0]!.files} files: graph, BPE tokenizer, ChatML template, configs) and encoder (embeddings), each with its own data key (${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );

  const golden = computeSandboxGolden({ container: sealed.container, tokenizer: tokenizer.bytes });
  writeFileAtomic(layout.guest.kernel, golden.guest.kernel, PUBLIC_FILE_MODE);
  writeFileAtomic(layout.guest.initrd, golden.guest.initrd, PUBLIC_FILE_MODE);
  say(
    `guest artifacts: guest/firmware/OVMF.amdsev.fd (committed) + kernel and initrd rebuilt into ${layout.guest.dir}, matching the dev stack's pins`,
  );

  const release = generateKeyPairSync("ec", { namedCurve: "P-384" });
  writeFileAtomic(layout.release.signingKey, release.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileAtomic(
    layout.release.publicKey,
    release.publicKey.export({ type: "spki", format: "pem" }) as string,
    PUBLIC_FILE_MODE,
  );
  const jws = await signSandboxManifest(golden.manifest, release.privateKey);
  writeFileAtomic(layout.release.manifest, formatManifest(golden.manifest), PUBLIC_FILE_MODE);
  writeFileAtomic(layout.release.jws, `${jws}\n`, PUBLIC_FILE_MODE);
  say(
    `golden manifest: release ${golden.manifest.release}, launch shape ${golden.launchShape} (stacks/Pulumi.dev.yaml) = ${golden.measurement}, signed ES384 -> ${layout.release.jws}`,
  );

  const sandboxCa = createCa("sandbox CA", now);
  const gatewayCa = createCa("sandbox gateway CA", now);
  const operatorCa = createCa("sandbox operator CA", now);
  writeFileAtomic(layout.pki.sandboxCa, sandboxCa.certPem, PUBLIC_FILE_MODE);
  writeFileAtomic(layout.pki.gatewayCa, gatewayCa.certPem, PUBLIC_FILE_MODE);
  writeFileAtomic(layout.pki.operatorCa, operatorCa.certPem, PUBLIC_FILE_MODE);
  const client = issueCert(sandboxCa, "sandbox-user", now);
  writePair(layout.pki.client, client);
  writePair(
    layout.pki.gatewayServer,
    issueCert(sandboxCa, "localhost", now, { dns: ["localhost"], ip: ["127.0.0.1"] }),
  );
  writePair(layout.pki.gatewayUpstream, issueCert(gatewayCa, "sandbox-gateway", now));
  writePair(layout.pki.operator, issueCert(operatorCa, "sandbox-operator", now));
  writeFileAtomic(layout.keybroker.pin, `${randomBytes(18).toString("base64url")}\n`);
  say(
    `PKI: sandbox CA (gateway TLS, your client certificate), gateway CA (gateway -> runtime mTLS), operator CA (broker admin API), HSM PIN -> ${layout.pki.dir}`,
  );

  const provisioned: Provisioned = {
    version: 1,
    createdAt: now.toISOString(),
    release: golden.manifest.release,
    launchShape: golden.launchShape,
    measurement: golden.measurement,
    tamperedMeasurement: golden.tamperedMeasurement,
    tamperedCmdline: golden.tamperedCmdline,
    product: sim.product,
    tcb: SIMULATED_DEFAULT_TCB[sim.product],
    model: {
      name: SANDBOX_MODEL.name,
      keyId: SANDBOX_MODEL.keyId,
      containerSha256: sealed.containerSha256,
      modelSha256: sealed.modelSha256,
    },
    clientCertSha256: client.sha256,
    openai: openai.map((m) => m.model),
  };
  return { provisioned, jws, dataKeys };
}

/** Seals the chat model's directory and the encoder, each under a fresh data key added to `dataKeys`. */
async function sealOpenAiModels(
  layout: SandboxLayout,
  bundled: ReadonlyMap<string, { bytes: Uint8Array }>,
  signerKey: KeyObject,
  dataKeys: Map<string, Buffer>,
): Promise<Array<{ model: ProvisionedModel; files: number }>> {
  const out: Array<{ model: ProvisionedModel; files: number }> = [];
  for (const m of SANDBOX_OPENAI_MODELS) {
    const dataKey = randomBytes(32);
    dataKeys.set(m.keyId, dataKey);
    const common = { modelName: m.name, keyId: m.keyId, dataKey, signerKey };
    const files =
      m.kind === "decoder"
        ? new Map(buildBundledChatModel().map((f) => [f.name, f.bytes]))
        : new Map([["model.onnx", bundled.get("encoder.onnx")!.bytes]]);
    const sealed =
      m.kind === "decoder"
        ? await sealAndSignModelDirectory({ ...common, files })
        : await sealAndSignModel({ ...common, plaintext: files.get("model.onnx")! });
    const target = modelFiles(layout, m.name);
    writeFileAtomic(target.container, sealed.container, PUBLIC_FILE_MODE);
    writeFileAtomic(target.signature, `${sealed.signature}\n`, PUBLIC_FILE_MODE);
    out.push({
      model: {
        name: m.name,
        kind: m.kind,
        keyId: m.keyId,
        containerSha256: sealed.containerSha256,
        modelSha256: sealed.modelSha256,
      },
      files: files.size,
    });
  }
  return out;
}

/** Second half: imports the signed manifest and the data key through the admin API, then records `provisioned.json`. */
export async function importIntoBroker(
  layout: SandboxLayout,
  adminUrl: string,
  pending: PendingProvision,
  say: (line: string) => void,
): Promise<Provisioned> {
  const tls = {
    ca: readFileSync(layout.keybroker.ca, "utf8"),
    cert: readFileSync(layout.pki.operator.cert, "utf8"),
    key: readFileSync(layout.pki.operator.key, "utf8"),
  };
  try {
    const m = await sendRequest({
      url: `${adminUrl}/admin/v1/manifests`,
      ...tls,
      body: JSON.stringify({ jws: pending.jws }),
      headers: { "content-type": "application/json" },
    });
    if (m.status !== 201 && m.status !== 200)
      throw new SandboxError(
        "PROVISION_FAILED",
        `the key broker refused the golden manifest: HTTP ${m.status} ${m.text.slice(0, 300)}`,
      );
    for (const [keyId, dataKey] of pending.dataKeys) {
      const k = await sendRequest({
        url: `${adminUrl}/admin/v1/data-keys/${keyId}`,
        ...tls,
        body: dataKey,
        headers: { "content-type": "application/octet-stream" },
      });
      if (k.status !== 200)
        throw new SandboxError(
          "PROVISION_FAILED",
          `the key broker refused the data key of ${keyId}: HTTP ${k.status} ${k.text.slice(0, 300)}`,
        );
    }
  } finally {
    for (const k of pending.dataKeys.values()) k.fill(0);
  }
  say(
    `key broker: imported the signed golden manifest (verified with the pinned release key) and the model data key (wrapped under the HSM's KEK; no other copy exists)`,
  );
  writeFileAtomic(layout.provisioned, `${JSON.stringify(pending.provisioned, null, 2)}\n`, PUBLIC_FILE_MODE);
  return pending.provisioned;
}
