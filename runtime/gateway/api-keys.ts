/**
 * The API key format the gateway authenticates with lives in `runtime/api-keys` (the deployment side
 * hashes the keys a stack holds as secrets with it, without loading the gateway); re-exported here for
 * the gateway's own files.
 */
export { apiKeyRecord, type ApiKeyRecord, ApiKeyStore, generateApiKey, isApiKey } from "../api-keys/index.js";
