/** Module face of `runtime/gateway`: everything other modules may import from it. */
export { buildGatewayApp, type GatewayClient, type GatewayOptions } from "./app.js";
export { type GatewayConfig, parseApiKeysFile, parseGatewayConfig } from "./config.js";
export {
  GATEWAY_ERROR_CODES,
  GATEWAY_ERROR_MEANINGS,
  GATEWAY_ERROR_STATUS,
  GatewayError,
  type GatewayErrorCode,
  isGatewayError,
} from "./errors.js";
