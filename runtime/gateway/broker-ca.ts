/**
 * The gateway's side of the one-pass broker bootstrap: it watches the CA bundle the key broker
 * publishes (a file: the `key-broker-ca` ConfigMap mounted into the pod, which the kubelet refreshes
 * in place) and, when a new one verifies, swaps the trust anchors of its runtime connections without
 * a restart. A bundle is applied only when it is signed with the pinned publication key, holds only
 * CA certificates and is newer than the one in use; anything else is refused (`BROKER_CA_REJECTED`,
 * logged and counted) and the current trust stays.
 */
import { readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import type { Logger } from "pino";
import { verifyCaBundle, type CaBundleDocument } from "../kbs-protocol/index.js";
import type { CertificateExpiry, Counter, Gauge, MetricsRegistry } from "../observability/index.js";
import { GatewayError } from "./errors.js";

/** What one check did. */
export type BrokerCaCheck = "absent" | "unchanged" | "applied" | "rejected";

/** Options of {@link BrokerCaWatcher}. */
export interface BrokerCaWatcherOptions {
  /** The published bundle (compact JWS); absent until the broker's first publication. */
  readonly file: string;
  /** The pinned publication public key (P-384). */
  readonly publisherKey: KeyObject;
  /** How often the file is read, in ms. */
  readonly intervalMs: number;
  /** Installs a verified bundle's PEM certificates as the only trust anchors for runtimes. */
  readonly apply: (pem: string) => void;
  readonly logger: Logger;
  readonly registry?: MetricsRegistry;
  readonly expiry?: CertificateExpiry;
}

/** Reads, verifies and applies the published broker CA bundle. */
export class BrokerCaWatcher {
  private lastText: string | undefined;
  private doc: CaBundleDocument | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly reloads: Counter | undefined;
  private readonly issued: Gauge | undefined;

  constructor(private readonly o: BrokerCaWatcherOptions) {
    this.reloads = o.registry?.counter(
      "ci_gateway_broker_ca_reloads_total",
      "Published broker CA bundles seen by the gateway, by outcome (applied, rejected) and reason",
      ["outcome", "reason"],
    );
    this.issued = o.registry?.gauge(
      "ci_gateway_broker_ca_issued_timestamp_seconds",
      "issuedAt of the broker CA bundle in use (Unix seconds; 0 before the first one)",
    );
  }

  /** The bundle in use, if any. */
  get current(): CaBundleDocument | undefined {
    return this.doc;
  }

  /** Reads the file once and applies a new bundle that verifies. */
  check(): BrokerCaCheck {
    let text: string;
    try {
      text = readFileSync(this.o.file, "utf8");
    } catch {
      return "absent";
    }
    if (text === this.lastText) return "unchanged";
    this.lastText = text;
    const v = verifyCaBundle(text, this.o.publisherKey);
    if (!v.ok) return this.reject(v.reason, v.detail);
    if (this.doc !== undefined && Date.parse(v.doc.issuedAt) <= Date.parse(this.doc.issuedAt)) {
      if (v.doc.certificates === this.doc.certificates) return "unchanged";
      return this.reject("rollback", `issuedAt ${v.doc.issuedAt} is not newer than ${this.doc.issuedAt}`);
    }
    this.o.apply(v.doc.certificates);
    this.doc = v.doc;
    this.reloads?.inc({ outcome: "applied", reason: "" });
    this.issued?.set({}, Math.floor(Date.parse(v.doc.issuedAt) / 1000));
    this.o.expiry?.observe("broker-ca", v.doc.certificates);
    this.o.logger.info(
      {
        event: "broker-ca.applied",
        issuedAt: v.doc.issuedAt,
        certificates: v.certificates.map((c) => c.fingerprint256.replace(/:/g, "").toLowerCase().slice(0, 16)),
      },
      "broker CA bundle applied",
    );
    return "applied";
  }

  private reject(reason: string, detail: string): "rejected" {
    const e = new GatewayError("BROKER_CA_REJECTED", `published broker CA bundle refused (${reason}): ${detail}`);
    this.reloads?.inc({ outcome: "rejected", reason });
    this.o.logger.warn({ event: "broker-ca.rejected", code: e.code, reason, detail }, e.message);
    return "rejected";
  }

  /** Checks now and every `intervalMs` until {@link stop}. */
  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
