/** Restart keeps keys: the same token folder and state give the same CA, data keys, signing keys and session-key secret. */
import { describe, expect, it } from "vitest";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import {
  adminImportDataKey,
  adminImportManifest,
  adminListKeys,
  adminRotate,
} from "../../runtime/keybroker/admin-service.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import {
  auditLines,
  brokerFixture,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  startBroker,
  simulatedVerifier,
} from "../helpers/keybroker.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const M = measurementOf("inference-restart");
const KEY = Buffer.from("feedfacecafebeef".repeat(4), "hex");

describe("restart", () => {
  it("keeps every key: CA certificate, data keys, token signing key and session-key secret survive a restart", async () => {
    const sim: SimulatedSnp = await sharedSimulatedSnp("Genoa");
    const verifier = () => simulatedVerifier(sim);
    const f = brokerFixture();

    const a = await startBroker(f, verifier());
    await adminImportManifest(
      a,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(a, "operator:test", "default/model/m", Buffer.from(KEY));
    await adminRotate(a, "operator:test", "kek");
    const netA = await listen(a, f);
    const c1 = new KbsClient({
      url: netA.kbsUrl,
      ca: netA.ca,
      evidence: simulatedSnpEvidence(sim, { measurement: M }),
    });
    const first = await c1.release({ keyIds: ["default/model/m"], sessionKey: true });
    const token = c1.currentToken as string;
    const listedBefore = adminListKeys(a);
    c1.close();
    await netA.close();
    await a.close();

    const b = await startBroker(f, verifier());
    expect(
      auditLines(f)
        .filter((l) => l.event === "broker.start")
        .at(-1),
    ).toMatchObject({ detail: "keys loaded" });
    const listedAfter = adminListKeys(b);
    expect(listedAfter.roles).toEqual(listedBefore.roles);
    expect(listedAfter.roles.kek).toMatchObject({
      active: 2,
      versions: [
        { version: 1, status: "retired" },
        { version: 2, status: "active" },
      ],
    });
    expect(listedAfter.dataKeys).toEqual([
      {
        resource: "default/model/m",
        active: 1,
        versions: [{ version: 1, importedAt: expect.any(String), length: 32, kekVersions: [1, 2] }],
      },
    ]);
    const netB = await listen(b, f);
    // A token issued before the restart is still accepted (same signing key, same epoch).
    const c2 = new KbsClient({
      url: netB.kbsUrl,
      ca: netB.ca,
      evidence: simulatedSnpEvidence(sim, { measurement: M }),
    });
    const { httpsTransport } = await import("../../runtime/attester/kbs/transport.js");
    const t = httpsTransport(netB.kbsUrl, netB.ca);
    expect(
      (await t.send("GET", "/kbs/v0/resource/default/model/m", { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    t.close();
    const second = await c2.release({ keyIds: ["default/model/m"], sessionKey: true });
    c2.close();
    expect(Buffer.from(second.modelKeys.get("default/model/m") as Uint8Array).toString("hex")).toBe(
      KEY.toString("hex"),
    );
    expect(second.brokerCa).toBe(first.brokerCa);
    expect(second.sessionKey?.kid).toBe(first.sessionKey?.kid);
    expect(second.sessionKey?.k).toBe(first.sessionKey?.k);
    await netB.close();
    await b.close();
  });
});
