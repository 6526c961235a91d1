/**
 * Module face of `runtime/http`: the error mapping the key broker, the inference runtime and the gateway
 * share (STYLE.md rule 9). Each app declares an {@link HttpErrorTable} and its body shape.
 */
export {
  type ErrorReplyOptions,
  installErrorReplies,
  isOpenAiPath,
  oipErrorBody,
  openAiErrorBody,
} from "./error-handler.js";
export {
  FASTIFY_FAILURES,
  type FastifyFailure,
  type HttpErrorReply,
  type HttpErrorTable,
  type HttpReason,
  httpErrorReply,
  INTERNAL,
  INTERNAL_MESSAGE,
  notFoundReply,
  type ValidationFailure,
  validationFailureOf,
  validationMessage,
} from "./error-reply.js";
