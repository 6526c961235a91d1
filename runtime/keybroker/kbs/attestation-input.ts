/**
 * The checks of a KBS Attestation message before any evidence is appraised: the shape of the
 * evidence (evidence-shape.ts), the TEE key (every form Trustee's client makes, tee-key.ts), the
 * init-data (Trustee's TOML initdata, whose digest the report's HOST_DATA must carry) and the
 * additional (device) evidence, accepted only for the devices `attestation.additionalDevices` names:
 * the broker does not appraise device evidence, it binds it (the string enters REPORT_DATA) and
 * records its digest. Every problem is reported with its field path (BODY_INVALID, or TEE_KEY_INVALID
 * for the key).
 */
import { createHash } from "node:crypto";
import {
  evidenceShapeProblems,
  initDataDigest,
  type KbsAttestation,
  parseTeeKey,
  type TeeKey,
} from "../../kbs-protocol/index.js";
import { KeyBrokerError } from "../errors.js";
import { teeKeyCheck } from "../keys/tee-key.js";

/** What the checks establish. */
export interface AttestationInput {
  readonly teeKey: TeeKey;
  /** The init-data digest and expected HOST_DATA, when init-data was sent (not null). */
  readonly initData?: { readonly algorithm: string; readonly digest: string; readonly hostData: Buffer };
  /** Devices of the additional evidence (its JSON object's keys), sorted; empty when none. */
  readonly devices: readonly string[];
  /** SHA-256 (hex) of the additional evidence string, when not empty. */
  readonly additionalEvidenceHash?: string;
}

/**
 * Checks an Attestation (see the file comment); `allowedDevices` is `attestation.additionalDevices`.
 *
 * @example const input = checkAttestationInput(att, broker.config.attestation.additionalDevices);
 */
export function checkAttestationInput(att: KbsAttestation, allowedDevices: readonly string[]): AttestationInput {
  const problems: { path: string; message: string }[] = evidenceShapeProblems(
    att["tee-evidence"].primary_evidence,
    "tee-evidence.primary_evidence",
  );
  if (att["tee-evidence"].primary_evidence === undefined)
    problems.push({ path: "tee-evidence.primary_evidence", message: "required" });
  const additional = att["tee-evidence"].additional_evidence;
  const devices = additional === "" ? [] : additionalDevices(additional, allowedDevices, problems);
  let initData: AttestationInput["initData"];
  const sent = att["init-data"];
  if (sent !== undefined && sent !== null) {
    const d = initDataDigest(sent, "init-data");
    if (d.ok) initData = { algorithm: d.algorithm, digest: d.digest, hostData: d.hostData };
    else problems.push(...d.problems);
  }
  if (problems.length > 0)
    throw new KeyBrokerError(
      "BODY_INVALID",
      `invalid KBS Attestation: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { problems },
    );
  const teeKey = teeKeyCheck(() => parseTeeKey(att["runtime-data"]["tee-pubkey"], "runtime-data.tee-pubkey"));
  return {
    teeKey,
    devices,
    ...(initData ? { initData } : {}),
    ...(additional === "" ? {} : { additionalEvidenceHash: createHash("sha256").update(additional).digest("hex") }),
  };
}

/** The devices of non-empty additional evidence (Trustee: a JSON object of tee name -> evidence). */
function additionalDevices(
  text: string,
  allowed: readonly string[],
  problems: { path: string; message: string }[],
): string[] {
  const path = "tee-evidence.additional_evidence";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push({ path, message: "must be the JSON text of an object (device tee name -> evidence)" });
    return [];
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push({ path, message: "must be the JSON text of an object (device tee name -> evidence)" });
    return [];
  }
  problems.push(...evidenceShapeProblems(parsed, path).filter((p) => !p.message.startsWith("must be an integer")));
  const devices = Object.keys(parsed).sort();
  for (const d of devices)
    if (!allowed.includes(d))
      problems.push({
        path: `${path}.${d}`,
        message:
          allowed.length === 0
            ? "additional (device) evidence is accepted only for devices attestation.additionalDevices names (none)"
            : `device ${d} is not in attestation.additionalDevices (${allowed.join(", ")})`,
      });
  return devices;
}
