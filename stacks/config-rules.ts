/**
 * Cross-field rules of the stack configuration: references between sections, uniqueness, and the
 * stricter rules for staging and prod. Pure: takes the schema-validated config, returns problems.
 */
import type { ConfigProblem } from "./errors.js";
import type { StackConfig } from "./config-schema.js";

const ROOT_OF_PRODUCT = { Milan: "amd-milan", Genoa: "amd-genoa", Turin: "amd-turin" } as const;

function duplicates<T>(items: readonly T[], key: (item: T) => string): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  items.forEach((item, index) => {
    const k = key(item);
    if (seen.has(k)) out.push(index);
    seen.add(k);
  });
  return out;
}

function artifactRef(
  config: StackConfig,
  path: string,
  name: string | undefined,
  kind: string,
  problems: ConfigProblem[],
): void {
  if (name === undefined) return;
  const artifact = config.artifacts[name];
  if (artifact === undefined) problems.push({ path, message: `unknown artifact "${name}"` });
  else if (artifact.kind !== kind)
    problems.push({ path, message: `artifact "${name}" is a ${artifact.kind}, expected a ${kind}` });
}

/**
 * True when `cmdline` mounts a root file system the launch measurement does not cover: a `root=`
 * without dm-verity (`roothash=`, `systemd.verity`, or a `dm-mod.create` verity table).
 */
export function unmeasuredRoot(cmdline: string): boolean {
  const words = cmdline.split(/\s+/);
  if (!words.some((w) => w.startsWith("root="))) return false;
  if (/(^|\s)dm-mod\.create=\S*.*\sverity\s/.test(cmdline)) return false;
  return !words.some((w) => w.startsWith("roothash=") || w.startsWith("systemd.verity"));
}

/** Confidential pods need the launch shape of their Kata guest, which binds their initdata as HOST_DATA. */
function podShapeRules(config: StackConfig, problems: ConfigProblem[]): void {
  const inf = config.inference;
  if (inf.runtimeClassName === undefined) {
    if (inf.launchShape !== undefined)
      problems.push({
        path: "inference.launchShape",
        message: "only confidential pods (inference.runtimeClassName) have a launch shape",
      });
    return;
  }
  if (inf.launchShape === undefined) {
    problems.push({
      path: "inference.launchShape",
      message:
        "required with inference.runtimeClassName: the launch shape of the pods' Kata guest, whose golden entry binds their initdata as HOST_DATA (without it any container in that guest would attest)",
    });
    return;
  }
  const s = config.launchShapes.findIndex((x) => x.name === inf.launchShape);
  if (s < 0) {
    problems.push({ path: "inference.launchShape", message: `unknown launch shape "${inf.launchShape}"` });
    return;
  }
  if (config.launchShapes[s]?.hostData !== undefined)
    problems.push({
      path: `launchShapes[${s}].hostData`,
      message: "the confidential pods' launch shape gets its HOST_DATA from their initdata; remove this key",
    });
  config.hosts.forEach((host, h) =>
    host.guests.forEach((g, i) => {
      if (g.launchShape === inf.launchShape)
        problems.push({
          path: `hosts[${h}].guests[${i}].launchShape`,
          message: `"${inf.launchShape}" is the confidential pods' Kata guest (inference.launchShape), which binds their HOST_DATA; a VM needs its own launch shape`,
        });
    }),
  );
}

/** Checks references between sections and uniqueness of names. */
function referenceRules(config: StackConfig, problems: ConfigProblem[]): void {
  for (const i of duplicates(config.hosts, (h) => h.name))
    problems.push({ path: `hosts[${i}].name`, message: `duplicate host name "${config.hosts[i]?.name}"` });
  for (const i of duplicates(config.launchShapes, (s) => s.name))
    problems.push({
      path: `launchShapes[${i}].name`,
      message: `duplicate launch shape "${config.launchShapes[i]?.name}"`,
    });
  const shapes = new Set(config.launchShapes.map((s) => s.name));
  config.hosts.forEach((host, h) => {
    for (const g of duplicates(host.guests, (x) => x.name))
      problems.push({
        path: `hosts[${h}].guests[${g}].name`,
        message: `duplicate guest name "${host.guests[g]?.name}"`,
      });
    host.guests.forEach((guest, g) => {
      if (!shapes.has(guest.launchShape))
        problems.push({
          path: `hosts[${h}].guests[${g}].launchShape`,
          message: `unknown launch shape "${guest.launchShape}"`,
        });
    });
    if (!config.attestation.allowedRoots.includes(ROOT_OF_PRODUCT[host.product])) {
      problems.push({
        path: `hosts[${h}].product`,
        message: `${host.product} hosts need "${ROOT_OF_PRODUCT[host.product]}" in attestation.allowedRoots`,
      });
    }
  });
  config.launchShapes.forEach((shape, s) => {
    const base = `launchShapes[${s}]`;
    artifactRef(config, `${base}.firmware`, shape.firmware, "firmware", problems);
    const firmware = config.artifacts[shape.firmware];
    if (firmware?.kind === "firmware" && firmware.path === undefined)
      problems.push({
        path: `${base}.firmware`,
        message: `artifact "${shape.firmware}" needs a path: the launch digest hashes every firmware page`,
      });
    artifactRef(config, `${base}.kernel`, shape.kernel, "kernel", problems);
    artifactRef(config, `${base}.initrd`, shape.initrd, "initrd", problems);
    if (shape.kernel === undefined && shape.initrd !== undefined)
      problems.push({ path: `${base}.initrd`, message: "an initrd needs a kernel (direct boot)" });
    if (shape.kernel === undefined && shape.cmdline !== undefined)
      problems.push({ path: `${base}.cmdline`, message: "a cmdline needs a kernel (direct boot)" });
    if (shape.policy.debug && !config.attestation.allowDebug)
      problems.push({
        path: `${base}.policy.debug`,
        message: "debug guests would be refused: attestation.allowDebug is false",
      });
    if (shape.cmdline !== undefined && unmeasuredRoot(shape.cmdline))
      problems.push({
        path: `${base}.cmdline`,
        message:
          "mounts an unmeasured root (root= without dm-verity): the host could swap the runtime and the evidence would still match; boot from the measured initrd, or add a dm-verity root hash",
      });
    if (shape.policy.migrateMa && !config.attestation.allowMigrationAgent)
      problems.push({
        path: `${base}.policy.migrateMa`,
        message: "guests with a migration agent would be refused: attestation.allowMigrationAgent is false",
      });
  });
  podShapeRules(config, problems);
  artifactRef(config, "inference.model.artifact", config.inference.model.artifact, "model", problems);
  artifactRef(config, "inference.model.tokenizer", config.inference.model.tokenizer, "tokenizer", problems);
  if (config.inference.maxReplicas < config.inference.replicas)
    problems.push({ path: "inference.maxReplicas", message: "must be at least inference.replicas" });
  const zones = Object.entries(config.network.zones);
  const seenNs = new Map<string, string>();
  for (const [zone, { namespace }] of zones) {
    const other = seenNs.get(namespace);
    if (other !== undefined)
      problems.push({
        path: `network.zones.${zone}.namespace`,
        message: `namespace "${namespace}" is already used by the ${other} zone`,
      });
    seenNs.set(namespace, zone);
  }
}

/** The gateway's clients, credentials, TLS and exposure; the broker's route to the API server. */
function gatewayRules(config: StackConfig, problems: ConfigProblem[]): void {
  const g = config.gateway;
  for (const i of duplicates(g.clients, (c) => c.name))
    problems.push({ path: `gateway.clients[${i}].name`, message: `duplicate client "${g.clients[i]?.name}"` });
  const owner = new Map<string, string>();
  g.clients.forEach((c, i) => {
    c.apiKeySecrets.forEach((key, j) => {
      const other = owner.get(key);
      if (other !== undefined)
        problems.push({
          path: `gateway.clients[${i}].apiKeySecrets[${j}]`,
          message: `secret "${key}" is already an API key of client "${other}"`,
        });
      owner.set(key, c.name);
    });
    (c.models ?? []).forEach((m, j) => {
      if (m !== config.inference.model.name)
        problems.push({
          path: `gateway.clients[${i}].models[${j}]`,
          message: `unknown model "${m}" (the stack serves "${config.inference.model.name}")`,
        });
    });
    if (c.certificateSha256.length > 0 && (g.tls.clientCaCertificate === undefined || g.tls.mode === "none"))
      problems.push({
        path: `gateway.clients[${i}].certificateSha256`,
        message: "client certificates need gateway.tls.clientCaCertificate and client-facing TLS",
      });
  });
  if (g.tls.mode === "provided" && g.tls.certificate === undefined)
    problems.push({ path: "gateway.tls.certificate", message: "required with mode provided" });
  if (g.tls.mode === "none" && g.tls.clientCaCertificate !== undefined)
    problems.push({ path: "gateway.tls.clientCaCertificate", message: "client certificates need client-facing TLS" });
  if (g.expose.kind === "ingress" && g.expose.host === undefined)
    problems.push({ path: "gateway.expose.host", message: "required for an ingress" });
  if (g.tls.mode === "none" && g.expose.kind !== "none" && config.environment !== "dev")
    problems.push({
      path: "gateway.tls.mode",
      message: `an exposed gateway needs TLS in ${config.environment}: clients would send prompts in clear text`,
    });
  if (config.network.apiServer === undefined && config.keyBroker.caCertificate === undefined)
    problems.push({
      path: "network.apiServer",
      message:
        "required: the key broker publishes its CA bundle to the gateway through the Kubernetes API (or set keyBroker.caCertificate)",
    });
}

/** Rules that tighten outside dev: real roots only, no debug, pinned host keys, TCB floors in prod. */
function environmentRules(config: StackConfig, problems: ConfigProblem[]): void {
  const env = config.environment;
  if (env === "dev") return;
  const a = config.attestation;
  if (a.allowedRoots.includes("simulated"))
    problems.push({
      path: "attestation.allowedRoots",
      message: `the simulated root is only allowed in dev, not in ${env}`,
    });
  if (config.hosts.length === 0)
    problems.push({ path: "hosts", message: `at least one SEV-SNP host is required in ${env}` });
  if (config.inference.plaintextApi)
    problems.push({
      path: "inference.plaintextApi",
      message: `the plaintext API lets the gateway (outside the boundary) read prompts and answers: dev only, not ${env}`,
    });
  if (env !== "prod") return;
  if (a.allowDebug)
    problems.push({ path: "attestation.allowDebug", message: "debug guests are never accepted in prod" });
  if (a.allowMigrationAgent)
    problems.push({ path: "attestation.allowMigrationAgent", message: "migration agents are never accepted in prod" });
  if (a.failOpenOnCollateral)
    problems.push({
      path: "attestation.failOpenOnCollateral",
      message: "prod must fail closed when collateral is unavailable",
    });
  if (config.hsm.kind === "softhsm")
    problems.push({
      path: "hsm.kind",
      message: "SoftHSM is for dev and staging; prod needs an enterprise PKCS#11 module",
    });
  const products = new Set(config.hosts.map((h) => h.product));
  for (const product of [...products].sort()) {
    if (a.tcbFloors[product] === undefined)
      problems.push({
        path: `attestation.tcbFloors.${product}`,
        message: `prod hosts include ${product}: a TCB floor is required`,
      });
  }
  config.hosts.forEach((host, h) => {
    if (host.ssh.hostKey === undefined)
      problems.push({ path: `hosts[${h}].ssh.hostKey`, message: "prod hosts need a pinned SSH host key" });
  });
}

/** Returns every cross-field problem of a schema-valid config (empty when none). */
export function checkRules(config: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  referenceRules(config, problems);
  gatewayRules(config, problems);
  environmentRules(config, problems);
  brokerRules(config, problems);
  return problems;
}

/** Broker replicas share state only through the store, and keys only through a network HSM. */
function brokerRules(config: StackConfig, problems: ConfigProblem[]): void {
  const kb = config.keyBroker;
  if (kb.replicas === 1) return;
  if (!kb.store)
    problems.push({
      path: "keyBroker.replicas",
      message:
        "more than 1 replica needs keyBroker.store: without it the key registry, wrapped data keys, manifest states, epochs and KBS sessions live in one pod's state, so replicas would diverge",
    });
  if (config.hsm.kind === "softhsm")
    problems.push({
      path: "keyBroker.replicas",
      message: "replicas share one HSM token: SoftHSM's token is one pod's files, use a network HSM (hsm.kind pkcs11)",
    });
}

/**
 * Names of the secret config keys this config requires (HSM PIN, release signing key, store connection, SSH
 * private keys, API keys, gateway TLS key).
 */
export function requiredSecretKeys(config: StackConfig): string[] {
  const keys = new Set<string>([config.hsm.pinSecret, config.golden.signingKeySecret]);
  if (config.keyBroker.store) keys.add(config.keyBroker.store.connectionSecret);
  for (const host of config.hosts) keys.add(host.ssh.privateKeySecret);
  for (const key of apiKeySecretNames(config)) keys.add(key);
  if (config.gateway.tls.mode === "provided") keys.add(config.gateway.tls.privateKeySecret);
  return [...keys].sort();
}

/** Names of the secret config keys holding the gateway's API keys. */
export function apiKeySecretNames(config: StackConfig): string[] {
  return config.gateway.clients.flatMap((c) => c.apiKeySecrets);
}
