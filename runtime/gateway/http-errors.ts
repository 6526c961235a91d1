/**
 * The gateway's HTTP error table for the shared mapping (runtime/http). Answers use the OIP error JSON
 * (`{ "error": message, "code": CODE }`); a params schema miss is an unknown route.
 */
import type { HttpErrorTable } from "../http/index.js";
import { GATEWAY_ERROR_STATUS, GatewayError, type GatewayErrorCode } from "./errors.js";

const NO_SUCH_ROUTE = { code: "ROUTE_NOT_FOUND", message: "no such route" } as const;

/** How the gateway maps errors to replies. */
export const GATEWAY_HTTP_ERRORS: HttpErrorTable<GatewayErrorCode> = {
  errorClass: GatewayError,
  status: GATEWAY_ERROR_STATUS,
  fastify: {
    FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: "body: larger than the limit" },
    FST_ERR_CTP_INVALID_MEDIA_TYPE: {
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: "content-type: must be application/json or application/octet-stream",
    },
  },
  validation: () => NO_SUCH_ROUTE,
  notFound: NO_SUCH_ROUTE,
};
