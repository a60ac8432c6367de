// What the worker, the client library and the HTTP service import to encrypt payloads.
export {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  PayloadDecryptionError,
} from './aes-gcm-codec.js';
export {
  codecAuthTokensFromEnv,
  devCodecAuthToken,
  DEV_TOKEN_PATH,
  loadCodecAuthTokens,
  SESSION_COOKIE,
} from './codec-auth.js';
export {
  buildCodecServer,
  codecServerConfigFromEnv,
  codecServerPlugin,
  DEFAULT_UI_ORIGIN,
  type CodecServerConfig,
  type CodecServerOptions,
} from './codec-server.js';
export { createDataConverter, failureConverterPath } from './data-converter.js';
export {
  devKeyRing,
  DEV_KEYS_PATH,
  KeyRing,
  keyRingFromEnv,
  loadKeyRing,
  parseKeyRing,
  type CodecKey,
} from './keyring.js';
