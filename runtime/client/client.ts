/**
 * The confidential client: verifies a model's runtimes before it sends anything, then sends each
 * request as Oblivious HTTP to one of them through the gateway, which relays bytes it cannot open.
 * Verdicts (and the keys they vouch for) are cached until a little before the bundle expires.
 *
 * Gateway URL layout (docs/confidential-requests.md):
 *   GET  /v1/attestation/{model}                 the model's runtimes and their bundles
 *   GET  /v1/attestation/{model}/{runtime}?nonce one runtime's bundle bound to the client's nonce
 *   POST /v1/ohttp/{model}/{runtime}             message/ohttp-req or message/ohttp-chunked-req
 */
import { randomBytes } from "node:crypto";
import { ChainCache } from "../attestation/index.js";
import { NONCE_BYTES, parseBundleList } from "../attestation-bundle/index.js";
import {
  ChunkedRequestEncoder,
  decodeBhttpResponse,
  encapsulateRequest,
  encodeBhttpRequest,
  isOhttpError,
  MEDIA_TYPE_OHTTP_CHUNKED_REQ,
  MEDIA_TYPE_OHTTP_CHUNKED_RES,
  MEDIA_TYPE_OHTTP_REQ,
  MEDIA_TYPE_OHTTP_RES,
  type BhttpField,
} from "../ohttp/index.js";
import { ClientError, isClientError } from "./errors.js";
import type { ClientTrust } from "./policy.js";
import { codeOf, openChunkedAnswer, relayFailure } from "./stream.js";
import { readBody, type GatewayTransport, type RelayResponse } from "./transport.js";
import { verifyBundle, type VerifiedRuntime } from "./verify.js";

/** One request for an API of the runtime, as it would be sent to the runtime itself. */
export interface ConfidentialRequest {
  readonly method: string;
  /** Origin-form path the runtime serves (`/v2/models/sentiment/infer`, `/v1/chat/completions`). */
  readonly path: string;
  /** Lower-case header names; hop-by-hop headers are dropped by the runtime. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** A whole answer. */
export interface ConfidentialResponse {
  readonly status: number;
  readonly headers: readonly BhttpField[];
  readonly body: Uint8Array;
  /** Which runtime answered (the gateway's id) and what it was verified to be. */
  readonly runtime: { readonly id: string } & VerifiedRuntime;
}

/** A streamed answer: the body yields each piece as soon as it authenticated. */
export interface ConfidentialStream extends Omit<ConfidentialResponse, "body"> {
  readonly body: AsyncIterable<Uint8Array>;
}

/** Options of {@link ConfidentialClient}. */
export interface ConfidentialClientOptions {
  readonly transport: GatewayTransport;
  readonly trust: ClientTrust;
  readonly now?: () => Date;
  /** Ask every runtime for a bundle bound to a fresh nonce (one report each per refresh) instead of its current one. */
  readonly freshNonce?: boolean;
  /** Verdicts are refreshed this long before a bundle's `notAfter`; default 60000 ms. */
  readonly refreshMarginMs?: number;
  /** Largest answer read whole, in bytes; default 16 MiB. */
  readonly maxResponseBytes?: number;
}

interface Verified extends VerifiedRuntime {
  readonly id: string;
}

interface Entry {
  readonly runtimes: readonly Verified[];
  readonly refreshAt: number;
  cursor: number;
}

const LIST_LIMIT = 4 * 1024 * 1024;
/** The runtime's answers that mean "not my key": the verdict is stale. */
const STALE_KEY = new Set(["OHTTP_KEY_ID_UNKNOWN", "OHTTP_DECRYPT_FAILED"]);

/**
 * Verifies runtimes, then encrypts to them.
 *
 * @example
 * const client = new ConfidentialClient({ transport: httpGateway({ url, ca, cert, key }), trust });
 * const r = await client.send("sentiment", { method: "POST", path: "/v2/models/sentiment/infer", headers: { "content-type": "application/json" }, body });
 */
export class ConfidentialClient {
  private readonly entries = new Map<string, Promise<Entry>>();
  private readonly cache = new ChainCache();
  private readonly now: () => Date;

  constructor(private readonly o: ConfidentialClientOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /**
   * The model's verified runtimes (cached until a bundle nears its end).
   * @throws ClientError refusing the runtimes (the first runtime's check when none passes); nothing is sent.
   */
  async runtimes(model: string): Promise<readonly Verified[]> {
    return (await this.entry(model)).runtimes;
  }

  /** Forgets the verdicts of `model` (or of every model). */
  forget(model?: string): void {
    if (model === undefined) this.entries.clear();
    else this.entries.delete(model);
  }

  /**
   * Sends one request and reads the whole answer (RFC 9458 `message/ohttp-req`).
   * @throws ClientError: a refusal before sending, `RELAY_FAILED` or `RESPONSE_INVALID` after.
   */
  async send(model: string, request: ConfidentialRequest): Promise<ConfidentialResponse> {
    return this.withRetry(model, async (runtime) => {
      const sealed = await encapsulateRequest(runtime.keyConfig, bhttp(request));
      const res = await this.o.transport
        .post(relayPath(model, runtime.id), MEDIA_TYPE_OHTTP_REQ, sealed.encapsulatedRequest)
        .catch((e: unknown) => Promise.reject(unreachable(e)));
      await expectType(res, MEDIA_TYPE_OHTTP_RES);
      const body = await readBody(res.body, this.o.maxResponseBytes ?? 16 * 1024 * 1024);
      try {
        const answer = decodeBhttpResponse(await sealed.openResponse(body));
        return { status: answer.status, headers: answer.headers, body: answer.content, runtime };
      } catch (e) {
        if (!isOhttpError(e)) throw e;
        throw new ClientError("RESPONSE_INVALID", `opening the answer: ${e.code}`, { cause: e });
      }
    });
  }

  /**
   * Sends one request as chunked OHTTP and streams the answer as it is written (token streams, large bodies).
   * @throws ClientError as {@link send}; the body's iterator throws `RESPONSE_INVALID` on a bad or truncated chunk.
   */
  async stream(model: string, request: ConfidentialRequest): Promise<ConfidentialStream> {
    return this.withRetry(model, async (runtime) => {
      const encoder = await ChunkedRequestEncoder.create(runtime.keyConfig);
      const body = Buffer.concat([encoder.header, await encoder.finish(bhttp(request))]);
      const res = await this.o.transport
        .post(relayPath(model, runtime.id), MEDIA_TYPE_OHTTP_CHUNKED_REQ, body)
        .catch((e: unknown) => Promise.reject(unreachable(e)));
      await expectType(res, MEDIA_TYPE_OHTTP_CHUNKED_RES);
      const answer = await openChunkedAnswer(encoder.createResponseDecoder(), res.body);
      return { ...answer, runtime };
    });
  }

  /** Closes the transport. */
  close(): void {
    this.o.transport.close();
  }

  /**
   * Runs `attempt` on the next verified runtime; once more, after verifying fresh bundles, when the
   * runtime could not open the request (its key is not the one verified: rotated, or a new process).
   */
  private async withRetry<T>(model: string, attempt: (runtime: Verified) => Promise<T>): Promise<T> {
    try {
      return await attempt(await this.pick(model));
    } catch (e) {
      if (!isClientError(e, "RELAY_FAILED") || !STALE_KEY.has(String(e.details.upstreamCode))) throw e;
      this.forget(model);
      return attempt(await this.pick(model));
    }
  }

  private async pick(model: string): Promise<Verified> {
    const entry = await this.entry(model);
    const runtime = entry.runtimes[entry.cursor % entry.runtimes.length]!;
    entry.cursor = (entry.cursor + 1) % entry.runtimes.length;
    return runtime;
  }

  private entry(model: string): Promise<Entry> {
    const cached = this.entries.get(model);
    if (cached !== undefined) {
      return cached.then((e) => {
        if (e.refreshAt > this.now().getTime()) return e;
        if (this.entries.get(model) === cached) this.entries.delete(model);
        return this.entry(model);
      });
    }
    const loading = this.load(model);
    this.entries.set(model, loading);
    loading.catch(() => {
      if (this.entries.get(model) === loading) this.entries.delete(model);
    });
    return loading;
  }

  private async load(model: string): Promise<Entry> {
    const list = await this.getJson(`/v1/attestation/${encodeURIComponent(model)}`);
    let parsed;
    try {
      parsed = parseBundleList(list);
    } catch (e) {
      throw new ClientError("BUNDLE_MALFORMED", (e as Error).message, { cause: e });
    }
    if (parsed.runtimes.length === 0) throw new ClientError("NO_RUNTIME", `the gateway lists no runtime for ${model}`);
    const verified: Verified[] = [];
    let first: unknown;
    for (const r of parsed.runtimes) {
      try {
        verified.push({ id: r.id, ...(await this.verifyRuntime(model, r.id, r.bundle)) });
      } catch (e) {
        if (!isClientError(e)) throw e;
        first ??= e;
      }
    }
    if (verified.length === 0) throw first;
    const margin = this.o.refreshMarginMs ?? 60_000;
    const ends = Math.min(...verified.map((v) => v.notAfter.getTime()));
    const lives = Math.min(...verified.map((v) => v.notAfter.getTime() - v.notBefore.getTime()));
    return { runtimes: verified, refreshAt: ends - Math.min(margin, lives / 3), cursor: 0 };
  }

  private async verifyRuntime(model: string, id: string, bundle: unknown): Promise<VerifiedRuntime> {
    if (!this.o.freshNonce) return verifyBundle(bundle, { trust: this.o.trust, now: this.now(), cache: this.cache });
    const nonce = randomBytes(NONCE_BYTES.min * 2);
    const fresh = await this.getJson(
      `/v1/attestation/${encodeURIComponent(model)}/${id}?nonce=${nonce.toString("hex")}`,
    );
    return verifyBundle(fresh, { trust: this.o.trust, now: this.now(), nonce, cache: this.cache });
  }

  private async getJson(path: string): Promise<unknown> {
    let res;
    try {
      res = await this.o.transport.get(path, LIST_LIMIT);
    } catch (e) {
      throw new ClientError("BUNDLE_UNAVAILABLE", `fetching ${path.split("?")[0]}: ${errorCode(e)}`, { cause: e });
    }
    if (res.status !== 200)
      throw new ClientError("BUNDLE_UNAVAILABLE", `fetching ${path.split("?")[0]}: HTTP ${res.status}`, {
        details: { status: res.status, upstreamCode: codeOf(res.body) },
      });
    try {
      return JSON.parse(res.body.toString("utf8")) as unknown;
    } catch (e) {
      throw new ClientError("BUNDLE_MALFORMED", "the gateway's answer is not JSON", { cause: e });
    }
  }
}

function relayPath(model: string, id: string): string {
  return `/v1/ohttp/${encodeURIComponent(model)}/${id}`;
}

function bhttp(r: ConfidentialRequest): Uint8Array {
  return encodeBhttpRequest({
    method: r.method,
    scheme: "https",
    authority: "",
    path: r.path,
    headers: Object.entries(r.headers ?? {}).map(([name, value]) => ({ name: name.toLowerCase(), value })),
    content: r.body ?? new Uint8Array(0),
    trailers: [],
  });
}

function errorCode(e: unknown): string {
  return (e as { code?: string })?.code ?? "failed";
}

function unreachable(e: unknown): ClientError {
  return new ClientError("RELAY_FAILED", `the gateway did not answer (${errorCode(e)})`, { cause: e });
}

async function expectType(res: RelayResponse, type: string): Promise<void> {
  const got = String(res.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim();
  if (res.status === 200 && got === type) return;
  throw relayFailure(res.status, await readBody(res.body, 64 * 1024));
}
