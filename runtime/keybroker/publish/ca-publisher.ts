/**
 * Publishes the broker CA bundle for the gateway (one-pass bootstrap, docs/deploy.md): every
 * `intervalSeconds` it reads the published ConfigMap key and, when it does not hold the current
 * bundle signed with the publication key (first start, a CA rotation, a retired CA leaving the
 * bundle, or someone else's write), writes a fresh one. Idempotent, so any number of broker replicas
 * may run it; failures are logged with `CA_PUBLICATION_FAILED`, counted, and retried on the next tick.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { signCaBundle, verifyCaBundle } from "../../kbs-protocol/index.js";
import type { Counter, MetricsRegistry } from "../../observability/index.js";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { patchConfigMapKey, readConfigMapKey, type ConfigMapTarget } from "./kubernetes.js";

/** Options of {@link CaPublisher}. */
export interface CaPublisherOptions {
  readonly target: ConfigMapTarget;
  /** ConfigMap key holding the bundle. */
  readonly key: string;
  /** PEM file of the publication private key (P-384). */
  readonly signingKeyFile: string;
  readonly intervalMs: number;
  /** The bundle to publish now (`KeyBroker.caBundle()`). */
  readonly bundle: () => string;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly registry?: MetricsRegistry;
}

/** What one round did. */
export type PublishOutcome = "current" | "published" | "failed";

/** Keeps the published CA bundle current. */
export class CaPublisher {
  private readonly key: KeyObject;
  private readonly publicKey: KeyObject;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PublishOutcome> | undefined;
  private readonly rounds: Counter | undefined;

  /** @throws KeyBrokerError CONFIG_INVALID when the signing key file is unreadable or not a P-384 private key. */
  constructor(private readonly o: CaPublisherOptions) {
    try {
      this.key = createPrivateKey(readFileSync(o.signingKeyFile, "utf8"));
    } catch (e) {
      throw new KeyBrokerError("CONFIG_INVALID", `caPublication.signingKeyFile: cannot read ${o.signingKeyFile}`, {
        cause: e,
      });
    }
    if (this.key.asymmetricKeyDetails?.namedCurve !== "secp384r1")
      throw new KeyBrokerError("CONFIG_INVALID", "caPublication.signingKeyFile: must be an EC P-384 private key");
    this.publicKey = createPublicKey(this.key);
    this.rounds = o.registry?.counter(
      "ci_keybroker_ca_publications_total",
      "CA bundle publication rounds by outcome (current, published, failed)",
      ["outcome"],
    );
  }

  /** One round: publish when the ConfigMap does not hold the current bundle. Never throws. */
  publishOnce(): Promise<PublishOutcome> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<PublishOutcome> {
    const certificates = this.o.bundle();
    let outcome: PublishOutcome;
    try {
      const published = await readConfigMapKey(this.o.target, this.o.key);
      const v = published === undefined ? undefined : verifyCaBundle(published, this.publicKey);
      if (v?.ok && v.doc.certificates === certificates) {
        outcome = "current";
      } else {
        const issuedAt = this.o.now().toISOString();
        await patchConfigMapKey(this.o.target, this.o.key, signCaBundle({ issuedAt, certificates }, this.key));
        this.o.logger.info(
          { event: "ca.published", configMap: `${this.o.target.namespace}/${this.o.target.name}`, issuedAt },
          "broker CA bundle published for the gateway",
        );
        outcome = "published";
      }
    } catch (e) {
      const err = isKeyBrokerError(e)
        ? e
        : new KeyBrokerError("CA_PUBLICATION_FAILED", "publishing the CA bundle failed", { cause: e });
      this.o.logger.warn({ event: "ca.publication.failed", code: err.code }, err.message);
      outcome = "failed";
    }
    this.rounds?.inc({ outcome });
    return outcome;
  }

  /** Publishes now and every `intervalMs` until {@link stop}. */
  start(): void {
    void this.publishOnce();
    this.timer = setInterval(() => void this.publishOnce(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
