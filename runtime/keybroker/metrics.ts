/**
 * The key broker's Prometheus metrics, served on its metrics listener (`metrics` in broker.json).
 * Trustee's KBS names where the meaning is the same (`kbs_attestation_*`, `kbs_auth_*`,
 * `kbs_resource_reads_total`: confidential-containers/trustee kbs/docs/metrics.md), and `ci_keybroker_*`
 * for what Trustee has no series for: decisions by drift class, releases by outcome, HSM latency and
 * availability, sessions. Counts come from the audit entries (what was decided is what was written)
 * and from the KBS listener's responses (auth). Labels are codes, classes and known resource paths:
 * never identifiers of a node, a session or a key.
 */
import type { FastifyInstance } from "fastify";
import type { Counter, Gauge, Histogram, MetricsRegistry } from "../observability/index.js";
import type { AuditEntry } from "./state/audit.js";

/** HSM latency buckets in seconds (SoftHSM ~0.02-9 ms; network HSMs are slower). */
const HSM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The broker's metrics; feed it with {@link BrokerMetrics.audit}, {@link BrokerMetrics.hsm} and {@link instrumentKbsApp}. */
export class BrokerMetrics {
  readonly attestRequests: Counter;
  readonly attestSuccesses: Counter;
  readonly attestFailures: Counter;
  readonly attestErrors: Counter;
  readonly attestations: Counter;
  readonly authRequests: Counter;
  readonly authSuccesses: Counter;
  readonly authErrors: Counter;
  readonly resourceReads: Counter;
  readonly releases: Counter;
  readonly hsmSeconds: Histogram;
  readonly hsmAvailable: Gauge;
  readonly hsmLost: Counter;
  readonly sessions: Gauge;

  constructor(registry: MetricsRegistry) {
    const c = (name: string, help: string, labels: readonly string[] = []) => registry.counter(name, help, labels);
    this.attestRequests = c("kbs_attestation_requests_total", "Attestation requests decided (one per audit entry)");
    this.attestSuccesses = c("kbs_attestation_successes_total", "Attestations granted, by TEE type", ["tee_type"]);
    this.attestFailures = c(
      "kbs_attestation_failures_total",
      "Attestations denied after the evidence was appraised, by TEE type",
      ["tee_type"],
    );
    this.attestErrors = c(
      "kbs_attestation_errors_total",
      "Attestation requests refused before appraisal (malformed, no session, nonce mismatch, HSM unavailable)",
    );
    this.attestations = c(
      "ci_keybroker_attestations_total",
      "Attestation decisions by decision (granted, denied), drift class (none before appraisal) and error code",
      ["decision", "drift_class", "code"],
    );
    this.authRequests = c("kbs_auth_requests_total", "KBS Request (auth) calls");
    this.authSuccesses = c("kbs_auth_successes_total", "KBS Request (auth) calls answered with a challenge");
    this.authErrors = c("kbs_auth_errors_total", "KBS Request (auth) calls refused");
    this.resourceReads = c("kbs_resource_reads_total", "Resources released, by resource path", ["resource_path"]);
    this.releases = c("ci_keybroker_releases_total", "Resource release decisions by decision and error code", [
      "decision",
      "code",
    ]);
    this.hsmSeconds = registry.histogram(
      "ci_keybroker_hsm_operation_duration_seconds",
      "Duration of HSM operations (PKCS#11) by outcome",
      ["outcome"],
      HSM_BUCKETS,
    );
    this.hsmAvailable = registry.gauge("ci_keybroker_hsm_available", "1 while the HSM session is usable, 0 while lost");
    this.hsmLost = c("ci_keybroker_hsm_unavailable_total", "Times the HSM was lost (device, token or session)");
    this.sessions = registry.gauge("ci_keybroker_sessions", "KBS sessions held (challenged or attested, not expired)");
  }

  /** Counts one written audit entry. */
  audit(entry: AuditEntry): void {
    if (entry.event === "kbs.attest") {
      const tee = entry.tee ?? "unknown";
      this.attestRequests.inc();
      if (entry.decision === "granted") this.attestSuccesses.inc({ tee_type: tee });
      else if (entry.driftClass !== undefined) this.attestFailures.inc({ tee_type: tee });
      else this.attestErrors.inc();
      this.attestations.inc({
        decision: entry.decision,
        drift_class: entry.driftClass ?? "none",
        code: entry.code ?? "",
      });
    } else if (entry.event === "kbs.resource") {
      this.releases.inc({ decision: entry.decision, code: entry.code ?? "" });
      if (entry.decision === "granted" && entry.resource !== undefined)
        this.resourceReads.inc({ resource_path: entry.resource });
    } else if (entry.event === "hsm.lost") {
      this.hsmLost.inc();
    }
  }

  /** Records one HSM operation's duration. */
  hsm(seconds: number, ok: boolean): void {
    this.hsmSeconds.observe({ outcome: ok ? "ok" : "error" }, seconds);
  }
}

/** Counts the KBS auth calls from the listener's responses (successes are not audited). */
export function instrumentKbsApp(app: FastifyInstance, metrics: BrokerMetrics): void {
  app.addHook("onResponse", async (req, reply) => {
    if (req.routeOptions.url !== "/kbs/v0/auth") return;
    metrics.authRequests.inc();
    if (reply.statusCode === 200) metrics.authSuccesses.inc();
    else metrics.authErrors.inc();
  });
}
