/** Module face of `runtime/api-keys`: the gateway's API key format, shared with the deployment side. */
export { apiKeyRecord, type ApiKeyRecord, ApiKeyStore, generateApiKey, isApiKey } from "./api-keys.js";
