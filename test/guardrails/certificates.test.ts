/** The renewal reminder: warns at preview when a @pulumi/tls certificate is within 30 days of expiry (frozen clock). */
import { describe, expect, it } from "vitest";
import { certificateRenewalPolicy } from "../../guardrails/certificates.js";
import { runPolicy, type PolicyInput } from "../helpers/policy-harness.js";

const NOW = new Date("2027-03-01T00:00:00Z");
const policy = certificateRenewalPolicy(() => NOW);
const cert = (name: string, props: Record<string, unknown>): PolicyInput => ({
  type: "tls:index/selfSignedCert:SelfSignedCert",
  name,
  props,
});

describe("tls-certificate-renewal-due", () => {
  it("warns for certificates within 30 days of expiry, or ready for renewal, and names when", async () => {
    const found = await runPolicy(policy, [
      cert("keys-listener-cert", { validityEndTime: "2027-03-21T00:00:00Z" }),
      cert("inference-gateway-client-cert", { validityEndTime: "2027-05-30T00:00:00Z" }),
      cert("inference-gateway-tls-cert", { validityEndTime: "2027-02-27T00:00:00Z" }),
      cert("edge-cert", { validityEndTime: "2027-05-30T00:00:00Z", readyForRenewal: true }),
      cert("new-cert", { validityPeriodHours: 2160 }),
      { type: "kubernetes:core/v1:Secret", name: "s", props: { validityEndTime: "2027-03-02T00:00:00Z" } },
    ]);
    expect(found).toEqual([
      {
        policy: "tls-certificate-renewal-due",
        resource: "keys-listener-cert",
        message:
          "certificate keys-listener-cert expires on 2027-03-21T00:00:00Z (in 20 days): run `pulumi up` (it renews it and rolls the pods that use it)",
      },
      {
        policy: "tls-certificate-renewal-due",
        resource: "inference-gateway-tls-cert",
        message:
          "certificate inference-gateway-tls-cert expired on 2027-02-27T00:00:00Z: run `pulumi up` now (it renews it and rolls the pods that use it)",
      },
      {
        policy: "tls-certificate-renewal-due",
        resource: "edge-cert",
        message:
          "certificate edge-cert expires on 2027-05-30T00:00:00Z (in 90 days): run `pulumi up` (it renews it and rolls the pods that use it)",
      },
    ]);
  });

  it("takes another threshold from the pack's config", async () => {
    const c = cert("keys-listener-cert", { validityEndTime: "2027-03-21T00:00:00Z" });
    expect(await runPolicy(policy, [c], { warnDays: 14 })).toEqual([]);
    expect((await runPolicy(policy, [c], { warnDays: 21 })).map((v) => v.resource)).toEqual(["keys-listener-cert"]);
  });
});
