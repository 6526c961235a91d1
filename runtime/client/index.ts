/**
 * Module face of `runtime/client` (package export `confidential-inference/client`): a client that
 * verifies a runtime's attestation bundle with the project's verifier before it sends anything,
 * then encrypts each request to the runtime's attested key (Oblivious HTTP) so the gateway relays
 * bytes it cannot read; and the local proxy behind `attestctl proxy`.
 *
 * @example
 * import { ConfidentialClient, httpGateway, parseClientTrust } from "confidential-inference/client";
 * const client = new ConfidentialClient({ transport: httpGateway({ url, ca, cert, key }), trust: parseClientTrust(json) });
 * const answer = await client.send("sentiment", { method: "POST", path: "/v2/models/sentiment/infer", headers: { "content-type": "application/json" }, body });
 */
export {
  ConfidentialClient,
  type ConfidentialClientOptions,
  type ConfidentialRequest,
  type ConfidentialResponse,
  type ConfidentialStream,
} from "./client.js";
export {
  CLIENT_ERROR_CODES,
  CLIENT_ERROR_MEANINGS,
  ClientError,
  type ClientErrorCode,
  isClientError,
  REFUSAL_CODES,
} from "./errors.js";
export { type ClientTrust, type ClientTrustInput, clientTrustSchema, parseClientTrust } from "./policy.js";
export { failureReply, type ProxyOptions, routeOf, type RunningProxy, startProxy } from "./proxy.js";
export { type GatewayTransport, httpGateway, type HttpGatewayOptions, type RelayResponse } from "./transport.js";
export { verifyBundle, type VerifiedRuntime, type VerifyBundleOptions } from "./verify.js";
