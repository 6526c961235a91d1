/**
 * The admin listener (app factory): a separate port that requires a client certificate issued by
 * the operator CA (TLS rejects anyone else before HTTP). The operator's identity (certificate
 * subject and fingerprint) is written to the audit log with every action.
 *
 *   POST /admin/v1/data-keys/{repository}/{type}/{tag}  application/octet-stream: the raw key (16/24/32 bytes)
 *   POST /admin/v1/manifests                            { jws }: a signed golden manifest
 *   GET  /admin/v1/manifests
 *   POST /admin/v1/manifests/{id}/activate | /retire
 *   POST /admin/v1/rotate                               { target: epoch | kek | signing | ca | session }
 *   GET  /admin/v1/keys                                 labels and public parts only
 */
import type { TLSSocket } from "node:tls";
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from "fastify";
import { listenerTimeouts } from "../../../core/index.js";
import {
  adminImportDataKey,
  adminImportManifest,
  adminListKeys,
  adminListManifests,
  adminRotate,
  adminSetManifestStatus,
} from "../admin-service.js";
import type { KeyBroker } from "../broker.js";
import { KeyBrokerError } from "../errors.js";
import { installCommon } from "./common.js";

/** Options of buildAdminApp. */
export interface AdminAppOptions {
  /** TLS key, certificate and the operator CA (PEM); client certificates are required. */
  readonly https?: { readonly key: string; readonly cert: string; readonly operatorCa: string };
  /** How to name the caller; default: the verified TLS client certificate. Tests using inject pass a fixed identity. */
  readonly identify?: (req: FastifyRequest) => string | undefined;
}

/** `operator:<CN>#<first 16 hex of the certificate SHA-256>` from the TLS peer certificate. */
export function tlsIdentity(req: FastifyRequest): string | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== "function" || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.fingerprint256) return undefined;
  const cn = typeof cert.subject?.CN === "string" ? cert.subject.CN : "unknown";
  return `operator:${cn.slice(0, 64)}#${cert.fingerprint256.replace(/:/g, "").toLowerCase().slice(0, 16)}`;
}

/**
 * Builds the admin app (not listening).
 *
 * @example
 * const app = buildAdminApp(broker, { https: { ...broker.listenerTls(), operatorCa } });
 */
export function buildAdminApp(broker: KeyBroker, options: AdminAppOptions = {}): FastifyInstance {
  const t = listenerTimeouts(broker.config.timeouts);
  const app = Fastify({
    loggerInstance: broker.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: broker.config.limits.bodyBytes,
    return503OnClosing: true,
    ...t.fastify,
    ...(options.https
      ? {
          https: {
            key: options.https.key,
            cert: options.https.cert,
            ca: options.https.operatorCa,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: "TLSv1.2" as const,
            ...t.server,
            ...t.tls,
          },
        }
      : { http: { ...t.server } }),
  }) as unknown as FastifyInstance;
  installCommon(app);
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  const identify = options.identify ?? tlsIdentity;
  const who = (req: FastifyRequest): string => {
    const id = identify(req);
    if (id === undefined)
      throw new KeyBrokerError("ADMIN_UNAUTHENTICATED", "a client certificate from the operator CA is required");
    return id;
  };

  app.post<{ Params: { repository: string; type: string; tag: string } }>(
    "/admin/v1/data-keys/:repository/:type/:tag",
    async (req) => {
      const caller = who(req);
      const body = req.body;
      if (!Buffer.isBuffer(body))
        throw new KeyBrokerError("MEDIA_TYPE_UNSUPPORTED", "send the raw key as application/octet-stream");
      return adminImportDataKey(broker, caller, `${req.params.repository}/${req.params.type}/${req.params.tag}`, body);
    },
  );

  app.post<{ Body: { jws?: unknown } }>(
    "/admin/v1/manifests",
    { schema: { body: { type: "object" } } },
    async (req, reply) => {
      const r = await adminImportManifest(broker, who(req), req.body.jws as string);
      return reply.code(r.added ? 201 : 200).send(r);
    },
  );

  app.get("/admin/v1/manifests", async (req) => {
    who(req);
    return { manifests: adminListManifests(broker) };
  });

  app.post<{ Params: { id: string; action: string } }>("/admin/v1/manifests/:id/:action", async (req) => {
    const caller = who(req);
    const to = req.params.action === "activate" ? "active" : req.params.action === "retire" ? "retired" : undefined;
    if (!to) throw new KeyBrokerError("ROUTE_NOT_FOUND", "no such endpoint");
    return adminSetManifestStatus(broker, caller, req.params.id, to);
  });

  app.post<{ Body: { target?: unknown } }>("/admin/v1/rotate", { schema: { body: { type: "object" } } }, async (req) =>
    adminRotate(broker, who(req), String(req.body.target)),
  );

  app.get("/admin/v1/keys", async (req) => {
    const caller = who(req);
    await broker.record({ event: "admin.keys.list", decision: "granted", who: caller });
    return adminListKeys(broker);
  });

  return app;
}
