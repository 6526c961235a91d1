/**
 * Audit-log rotation (issue 15: a log that every refused request appends to was never rotated):
 * records made while a rotation happens go to the new file, none is lost, duplicated or reordered
 * across the group-commit batches; retention removes only rotated (flushed) files.
 */
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog, parseAuditLog } from "../../runtime/keybroker/state/audit.js";
import { auditFiles, rotatedAuditFiles } from "../../runtime/keybroker/state/audit-files.js";
import { tempDir } from "../helpers/keybroker.js";

const fixed = () => new Date("2026-11-26T12:00:00.000Z");

async function burst(log: AuditLog, from: number, n: number): Promise<void> {
  // One task's worth of records: they join one group-commit batch (or the one in flight).
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.record({ event: "kbs.auth", decision: "denied", code: "BODY_INVALID", detail: `n=${from + i}` }),
    ),
  );
}

describe("audit log rotation", () => {
  it("rotates between group-commit batches without losing, duplicating or reordering a record", async () => {
    const path = join(tempDir(), "audit.log");
    const rotated: number[] = [];
    const log = new AuditLog(path, fixed, undefined, {
      rotateBytes: 4096,
      keepFiles: 1000,
      onRotate: (f) => rotated.push(f.sequence),
    });
    await log.open();
    // Bursts overlap: the next starts while the previous batch (and maybe a rotation) is in flight.
    const bursts: Promise<void>[] = [];
    for (let b = 0; b < 30; b++) {
      bursts.push(burst(log, b * 40, 40));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(bursts);
    await log.close();
    const files = auditFiles(path);
    expect(files.length).toBeGreaterThan(10);
    expect(rotated).toEqual(rotatedAuditFiles(path).map((f) => f.sequence));
    const details = files.flatMap((p) => parseAuditLog(readFileSync(p, "utf8")).map((l) => l.detail));
    expect(details).toEqual(Array.from({ length: 1200 }, (_, i) => `n=${i}`));
    // Each rotated file passed the threshold by at most one batch.
    for (const f of rotatedAuditFiles(path)) expect(statSync(f.path).size).toBeGreaterThanOrEqual(4096);
  });

  it("keeps only keepFiles rotated files, the newest, and never the live one", async () => {
    const path = join(tempDir(), "audit.log");
    const log = new AuditLog(path, fixed, undefined, { rotateBytes: 4096, keepFiles: 2 });
    await log.open();
    for (let b = 0; b < 20; b++) await burst(log, b * 40, 40);
    await log.record({ event: "broker.stop", decision: "info", detail: "last" });
    await log.close();
    const kept = rotatedAuditFiles(path);
    expect(kept.length).toBe(2);
    expect(kept[1]?.sequence).toBe((kept[0]?.sequence ?? 0) + 1);
    expect(parseAuditLog(readFileSync(path, "utf8")).at(-1)?.detail).toBe("last");
  });

  it("fails closed when the rotation cannot rename the file", async () => {
    const path = join(tempDir(), "audit.log");
    const log = new AuditLog(path, fixed, undefined, { rotateBytes: 4096, keepFiles: 2 });
    await log.open();
    rmSync(path); // writes still reach the open descriptor; the rename at rotation fails (ENOENT)
    await burst(log, 0, 60); // passes the threshold: durable, then the rotation fails
    await expect(log.record({ event: "broker.stop", decision: "info" })).rejects.toMatchObject({
      code: "AUDIT_UNAVAILABLE",
    });
    await log.close();
  });
});
