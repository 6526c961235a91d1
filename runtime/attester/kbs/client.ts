/**
 * The guest-side KBS client the inference runtime calls at boot: makes an ephemeral P-384 key,
 * runs the KBS handshake (auth -> challenge -> evidence bound to nonce and key -> attest ->
 * token), fetches resources and decrypts their JWE (node:crypto; interoperability with jose is
 * tested in both directions). Evidence comes from an injected provider: the simulated SNP signer
 * in dev, configfs-tsm or /dev/sev-guest on hardware. One keep-alive TLS connection carries the
 * whole exchange; the ephemeral key is generated on the thread pool while /auth is in flight, and
 * `release()` asks for the runtime certificate with the token (one JWE fewer: the certificate is
 * public).
 *
 * @example
 * const client = new KbsClient({ url: "https://127.0.0.1:8444", ca: brokerCaPem, evidence });
 * const creds = await client.release({ keyIds: ["default/model/sentiment"] });
 * // creds.modelKeys, creds.serverCertificate, creds.serverKey, creds.brokerCa
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import { children, jwkFromKey, readOne, TAG } from "../../../core/index.js";
import { AttesterError } from "../errors.js";
import {
  expectedReportData,
  decryptFromTeeKey,
  JWE_ALG,
  type FlattenedJwe,
  CERTIFICATE_PARAM,
  KBS_PROTOCOL_VERSION,
  SESSION_COOKIE,
  type KbsAttestation,
  RUNTIME_CERTIFICATE_RESOURCE,
  SESSION_KEY_RESOURCE,
  type RuntimeCertificate,
  type SessionKey,
} from "../../kbs-protocol/index.js";
import { httpsTransport, type JsonResponse, type Transport } from "./transport.js";

/** Produces TEE evidence whose REPORT_DATA is `reportData` (64 bytes). */
export interface KbsEvidenceProvider {
  /** KBS tee name (`snp`). */
  readonly tee: string;
  /** Returns the `tee-evidence.primary_evidence` JSON for this report data. */
  getEvidence(reportData: Buffer): Promise<unknown>;
}

/** Client options. */
export interface KbsClientOptions {
  /** Broker base URL, e.g. `https://keybroker.keys.svc:8444`. */
  readonly url?: string;
  /** PEM bundle of the broker CA (pins the broker's TLS identity). */
  readonly ca?: string;
  /** Or a ready transport (tests). */
  readonly transport?: Transport;
  readonly evidence: KbsEvidenceProvider;
  /** Decrypts a resource JWE with the attested private key; default `decryptFromTeeKey` (node:crypto). */
  readonly decrypt?: (jwe: FlattenedJwe, privateKey: KeyObject) => Promise<Buffer> | Buffer;
}

/** What the broker releases to an attested runtime (matches runtime/inference `ReleasedCredentials`). */
export interface ReleasedCredentials {
  /** Data keys by KBS resource path (`repository/type/tag`). */
  readonly modelKeys: ReadonlyMap<string, Uint8Array>;
  /** PEM chain: runtime certificate then broker CA. */
  readonly serverCertificate: string;
  /** PEM (PKCS#8) of the attested ephemeral key, the certificate's key. Never leaves the guest. */
  readonly serverKey: string;
  /** PEM of the broker CA bundle. */
  readonly brokerCa: string;
  /** The session key for (release, chip id, epoch), when requested. */
  readonly sessionKey?: SessionKey;
  /** The runtime certificate resource as received. */
  readonly certificate: RuntimeCertificate;
}

/** Decoded (unverified) token claims, for the caller's information. */
export type TokenInfo = Record<string, unknown> & {
  readonly exp?: number;
  readonly epoch?: number;
  readonly release?: string;
  readonly "drift-class"?: string;
};

function fail(what: string, r: JsonResponse): AttesterError {
  const body = (r.body ?? {}) as { code?: unknown; detail?: unknown; driftClass?: unknown };
  const serverCode = typeof body.code === "string" ? body.code : undefined;
  const detail = typeof body.detail === "string" ? body.detail : `HTTP ${r.status}`;
  return new AttesterError("CLIENT_PROTOCOL_ERROR", `${what}: ${serverCode ?? r.status}: ${detail}`, {
    details: {
      status: r.status,
      ...(serverCode ? { serverCode } : {}),
      ...(typeof body.driftClass === "string" ? { driftClass: body.driftClass } : {}),
    },
  });
}

/** The KBS client of one attester. */
export class KbsClient {
  private readonly transport: Transport;
  private key:
    | {
        privateKey: KeyObject;
        publicKey: KeyObject;
        jwk: { kty: "EC"; crv: "P-384"; alg: string; x: string; y: string };
      }
    | undefined;
  private token: string | undefined;
  private cookie: string | undefined;
  private certificate: RuntimeCertificate | undefined;

  constructor(private readonly options: KbsClientOptions) {
    if (options.transport) this.transport = options.transport;
    else if (options.url && options.ca) this.transport = httpsTransport(options.url, options.ca);
    else throw new TypeError("KbsClient needs url and ca, or a transport");
  }

  /** The current token (after attest), or undefined. */
  get currentToken(): string | undefined {
    return this.token;
  }

  /**
   * Runs the handshake with a new ephemeral key: auth, evidence over the binding of nonce and
   * key, attest. Returns the token and its (unverified) claims. With `certificate`, the Request
   * asks for the runtime certificate, which arrives with the token (see `release`).
   */
  async attest(options: { readonly certificate?: boolean } = {}): Promise<{ token: string; claims: TokenInfo }> {
    const keyPair = newEphemeralKey();
    keyPair.catch(() => undefined); // awaited below; a failing /auth must not leave it unhandled
    const extra = options.certificate ? { [CERTIFICATE_PARAM]: true } : "";
    const auth = await this.transport.send("POST", "/kbs/v0/auth", {
      body: { version: KBS_PROTOCOL_VERSION, tee: this.options.evidence.tee, "extra-params": extra },
    });
    if (auth.status !== 200) throw fail("KBS auth", auth);
    const { privateKey, publicKey } = await keyPair;
    const jwk = { ...jwkFromKey(publicKey), alg: JWE_ALG };
    const nonce = (auth.body as { nonce?: unknown } | undefined)?.nonce;
    if (typeof nonce !== "string")
      throw new AttesterError("CLIENT_PROTOCOL_ERROR", "KBS auth: the challenge has no nonce");
    const cookie = cookieOf(auth.headers["set-cookie"]);
    if (!cookie) throw new AttesterError("CLIENT_PROTOCOL_ERROR", `KBS auth: no ${SESSION_COOKIE} cookie`);
    const evidence = await this.options.evidence.getEvidence(expectedReportData(nonce, jwk, ""));
    const body: KbsAttestation = {
      "runtime-data": { nonce, "tee-pubkey": jwk },
      "tee-evidence": { primary_evidence: evidence, additional_evidence: "" },
    };
    const att = await this.transport.send("POST", "/kbs/v0/attest", {
      body,
      headers: { cookie: `${SESSION_COOKIE}=${cookie}` },
    });
    if (att.status !== 200) throw fail("KBS attest", att);
    const answer = (att.body ?? {}) as { token?: unknown; [CERTIFICATE_PARAM]?: unknown };
    const token = answer.token;
    if (typeof token !== "string")
      throw new AttesterError("CLIENT_PROTOCOL_ERROR", "KBS attest: no token in the response");
    this.key = { privateKey, publicKey, jwk };
    this.token = token;
    this.cookie = cookie;
    this.certificate =
      answer[CERTIFICATE_PARAM] === undefined ? undefined : certificateFor(answer[CERTIFICATE_PARAM], publicKey);
    return { token, claims: decodeClaims(token) };
  }

  /**
   * Fetches and decrypts a resource (`repository/type/tag`). Attests first when there is no
   * token; on 401 (expired or superseded token) attests once more and retries.
   */
  async getResource(path: string): Promise<Buffer> {
    if (!this.token) await this.attest();
    let r = await this.fetchResource(path);
    if (r.status === 401) {
      await this.attest();
      r = await this.fetchResource(path);
    }
    if (r.status !== 200) throw fail(`KBS resource ${path}`, r);
    return this.decrypt(r.body as FlattenedJwe);
  }

  /**
   * The boot seam of runtime/inference (`KeyRelease`): attests, fetches each data key and the
   * runtime certificate (and the session key when asked), and returns them with the ephemeral key.
   */
  async release(request: {
    readonly keyIds: readonly string[];
    readonly sessionKey?: boolean;
  }): Promise<ReleasedCredentials> {
    await this.attest({ certificate: true });
    const modelKeys = new Map<string, Uint8Array>();
    for (const id of request.keyIds) modelKeys.set(id, new Uint8Array(await this.getResource(id)));
    // A broker without the extension (or a re-attestation on 401) leaves it to the resource.
    const certificate =
      this.certificate ??
      (JSON.parse((await this.getResource(RUNTIME_CERTIFICATE_RESOURCE)).toString("utf8")) as RuntimeCertificate);
    const sessionKey = request.sessionKey
      ? (JSON.parse((await this.getResource(SESSION_KEY_RESOURCE)).toString("utf8")) as SessionKey)
      : undefined;
    const key = this.key;
    if (!key) throw new AttesterError("CLIENT_PROTOCOL_ERROR", "no attested key");
    return {
      modelKeys,
      serverCertificate: certificate.chain,
      serverKey: key.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      brokerCa: certificate.caBundle,
      certificate,
      ...(sessionKey ? { sessionKey } : {}),
    };
  }

  /** Closes keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  private fetchResource(path: string): Promise<JsonResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (this.cookie) headers.cookie = `${SESSION_COOKIE}=${this.cookie}`;
    return this.transport.send("GET", `/kbs/v0/resource/${path.split("/").map(encodeURIComponent).join("/")}`, {
      headers,
    });
  }

  private async decrypt(jwe: FlattenedJwe): Promise<Buffer> {
    if (!this.key) throw new AttesterError("CLIENT_PROTOCOL_ERROR", "no attested key");
    try {
      return await (this.options.decrypt ?? decryptFromTeeKey)(jwe, this.key.privateKey);
    } catch (e) {
      throw new AttesterError("CLIENT_DECRYPT_FAILED", "decrypting the KBS resource response failed", { cause: e });
    }
  }
}

/** A P-384 key pair generated on the libuv thread pool. */
function newEphemeralKey(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return new Promise((resolve, reject) =>
    generateKeyPair("ec", { namedCurve: "P-384" }, (e, publicKey, privateKey) =>
      e ? reject(e) : resolve({ publicKey, privateKey }),
    ),
  );
}

/** The certificate resource delivered with the token, checked to certify this handshake's key. */
function certificateFor(value: unknown, publicKey: KeyObject): RuntimeCertificate {
  const c = value as Partial<RuntimeCertificate> | null;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.certificate !== "string" ||
    typeof c.chain !== "string" ||
    typeof c.caBundle !== "string"
  ) {
    throw new AttesterError("CLIENT_PROTOCOL_ERROR", `KBS attest: ${CERTIFICATE_PARAM} is not a certificate resource`);
  }
  // The subjectPublicKeyInfo read with the verifier's DER reader (OpenSSL's X509 decoder costs 10x more).
  let spki: Buffer;
  try {
    const der = Buffer.from(c.certificate.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const tbs = children(readOne(der, TAG.sequence))[0];
    const fields = tbs ? children(tbs) : [];
    spki = (fields[0]?.tag === 0xa0 ? fields[6] : fields[5])?.raw ?? Buffer.alloc(0);
  } catch (e) {
    throw new AttesterError(
      "CLIENT_PROTOCOL_ERROR",
      `KBS attest: ${CERTIFICATE_PARAM}.certificate is not a certificate`,
      { cause: e },
    );
  }
  if (!spki.equals(publicKey.export({ type: "spki", format: "der" })))
    throw new AttesterError(
      "CLIENT_PROTOCOL_ERROR",
      `KBS attest: ${CERTIFICATE_PARAM} certifies another key than the attested one`,
    );
  return c as RuntimeCertificate;
}

function cookieOf(header: string | string[] | undefined): string | undefined {
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(h);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** Decodes a JWT payload without verifying it (the broker verifies; the guest only reads). */
export function decodeClaims(token: string): TokenInfo {
  const payload = token.split(".")[1] ?? "";
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenInfo;
  } catch {
    return {};
  }
}
