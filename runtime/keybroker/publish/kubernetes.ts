/**
 * The smallest Kubernetes API client the broker needs: read and merge-patch one key of one
 * ConfigMap, with the pod's service-account token (re-read on every call: projected tokens rotate)
 * and the cluster CA. The broker's Role allows `get` and `patch` on that ConfigMap only.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { KeyBrokerError } from "../errors.js";

/** Where the ConfigMap is and how to reach the API server. */
export interface ConfigMapTarget {
  /** `https://host:port` of the API server. */
  readonly apiServer: string;
  readonly namespace: string;
  readonly name: string;
  /** Service-account token file. */
  readonly tokenFile: string;
  /** PEM CA of the API server. */
  readonly caFile: string;
  /** Per-request timeout in ms. */
  readonly timeoutMs: number;
}

function fail(what: string, detail: string, cause?: unknown): KeyBrokerError {
  return new KeyBrokerError("CA_PUBLICATION_FAILED", `${what}: ${detail}`, cause === undefined ? {} : { cause });
}

function call(t: ConfigMapTarget, method: "GET" | "PATCH", body?: unknown): Promise<{ status: number; json: unknown }> {
  const what = `${method} configmap ${t.namespace}/${t.name}`;
  let token: string;
  let ca: string;
  try {
    token = readFileSync(t.tokenFile, "utf8").trim();
    ca = readFileSync(t.caFile, "utf8");
  } catch (e) {
    return Promise.reject(fail(what, "cannot read the service-account token or the cluster CA", e));
  }
  const url = new URL(
    `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/configmaps/${encodeURIComponent(t.name)}`,
    t.apiServer,
  );
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        timeout: t.timeoutMs,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(payload
            ? { "content-type": "application/merge-patch+json", "content-length": String(payload.length) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(fail(what, `no answer within ${t.timeoutMs} ms`)));
    req.on("error", (e) =>
      reject(e instanceof KeyBrokerError ? e : fail(what, (e as NodeJS.ErrnoException).code ?? "unreachable", e)),
    );
    req.end(payload);
  });
}

/** The value of `key` in the ConfigMap; absent when the key (or the ConfigMap) does not exist. */
export async function readConfigMapKey(t: ConfigMapTarget, key: string): Promise<string | undefined> {
  const r = await call(t, "GET");
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw fail(`GET configmap ${t.namespace}/${t.name}`, `HTTP ${r.status}`);
  const data = (r.json as { data?: Record<string, unknown> } | undefined)?.data;
  const v = data?.[key];
  return typeof v === "string" ? v : undefined;
}

/** Sets `key` of the ConfigMap (JSON merge patch: other keys stay). */
export async function patchConfigMapKey(t: ConfigMapTarget, key: string, value: string): Promise<void> {
  const r = await call(t, "PATCH", { data: { [key]: value } });
  if (r.status !== 200) throw fail(`PATCH configmap ${t.namespace}/${t.name}`, `HTTP ${r.status}`);
}
