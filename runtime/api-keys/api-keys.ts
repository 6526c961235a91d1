/**
 * API keys of the gateway, hashed at rest (shared by the gateway and the deployment side, which hashes the
 * keys a stack holds as secrets). A key is `cik_<id>_<secret>`: `id` (12 lowercase hex) finds the record, `secret`
 * (43 base64url characters, 256 random bits) is checked against the stored SHA-256 in constant time. A fast hash
 * is right here because secrets are high-entropy random values, not passwords. Pure except `generateApiKey`.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** What the gateway stores for a key (safe to keep in config or a database). */
export interface ApiKeyRecord {
  /** Public key id (12 lowercase hex). */
  readonly id: string;
  /** Client the key belongs to. */
  readonly client: string;
  /** Lowercase hex SHA-256 of the secret part. */
  readonly sha256: string;
}

const KEY_FORMAT = /^cik_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * Creates a new key for `client`: show `apiKey` to the client once, store only `record`.
 *
 * @example
 * const { apiKey, record } = generateApiKey("team-a"); // apiKey = "cik_1a2b3c4d5e6f_..."
 */
export function generateApiKey(client: string): { apiKey: string; record: ApiKeyRecord } {
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return {
    apiKey: `cik_${id}_${secret}`,
    record: { id, client, sha256: createHash("sha256").update(secret).digest("hex") },
  };
}

/** True when `value` has the shape of an API key (`cik_<12 hex>_<43 base64url>`). */
export function isApiKey(value: string): boolean {
  return KEY_FORMAT.test(value);
}

/**
 * The record the gateway stores for an existing key (what a deployment renders from a key held as a
 * secret: only the id and the SHA-256 of the secret part leave).
 * @throws TypeError when `apiKey` is not an API key (caller misuse: validate with {@link isApiKey}).
 */
export function apiKeyRecord(apiKey: string, client: string): ApiKeyRecord {
  const m = KEY_FORMAT.exec(apiKey);
  if (!m) throw new TypeError("apiKeyRecord: not an API key (cik_<12 hex>_<43 base64url>)");
  return { id: m[1]!, client, sha256: createHash("sha256").update(m[2]!).digest("hex") };
}

/** Looks keys up by id and checks secrets in constant time. */
export class ApiKeyStore {
  private readonly byId = new Map<string, ApiKeyRecord>();

  constructor(records: readonly ApiKeyRecord[]) {
    for (const r of records) {
      if (!/^[0-9a-f]{12}$/.test(r.id) || !/^[0-9a-f]{64}$/.test(r.sha256))
        throw new TypeError(`api key record ${JSON.stringify(r.id)}: id must be 12 hex, sha256 64 hex`);
      if (this.byId.has(r.id)) throw new TypeError(`api key record ${r.id} given twice`);
      this.byId.set(r.id, r);
    }
  }

  /** The client of a presented key; absent when the key is malformed, unknown or wrong. */
  authenticate(presented: string | undefined): string | undefined {
    const m = presented === undefined ? null : KEY_FORMAT.exec(presented);
    if (!m) return undefined;
    const record = this.byId.get(m[1]!);
    const digest = createHash("sha256").update(m[2]!).digest();
    const expected = Buffer.from(record?.sha256 ?? "0".repeat(64), "hex");
    return timingSafeEqual(digest, expected) && record ? record.client : undefined;
  }
}
