/**
 * Certificate expiry as a metric, so an alert fires before a listener or client certificate lapses:
 * `ci_tls_certificate_expiry_timestamp_seconds{certificate}` is the `notAfter` of each certificate a
 * service loaded, in Unix seconds (deploy/prometheus/alerts.yaml compares it with `time()`).
 */
import { X509Certificate } from "node:crypto";
import type { Gauge, MetricsRegistry } from "./metrics.js";

/** Name of the expiry gauge (stable: dashboards and alerts use it). */
export const CERTIFICATE_EXPIRY_METRIC = "ci_tls_certificate_expiry_timestamp_seconds";

/** Records the expiry of the certificates a service loaded. */
export class CertificateExpiry {
  private readonly gauge: Gauge;

  constructor(registry: MetricsRegistry) {
    this.gauge = registry.gauge(
      CERTIFICATE_EXPIRY_METRIC,
      "notAfter of a certificate this service loaded (Unix seconds), by role",
      ["certificate"],
    );
  }

  /**
   * Sets the expiry of the first certificate in `pem` under the role `certificate` (e.g. `listener`).
   * A PEM that does not parse is skipped: the service that loaded it reports that itself.
   */
  observe(certificate: string, pem: string): void {
    const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
    if (first === undefined) return;
    try {
      this.gauge.set({ certificate }, Math.floor(Date.parse(new X509Certificate(first).validTo) / 1000));
    } catch {
      // not a certificate: nothing to observe
    }
  }
}
