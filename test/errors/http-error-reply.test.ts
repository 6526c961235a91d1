/**
 * The one HTTP error mapping (runtime/http) the key broker, the inference runtime and the gateway share:
 * each app's own errors keep code and message, Fastify's failures become the app's codes, anything else
 * is INTERNAL 500 with a fixed message; the body shape is the app's.
 */
import fastify from "fastify";
import { describe, expect, it } from "vitest";
import { CodedError } from "../../core/errors.js";
import {
  type HttpErrorTable,
  httpErrorReply,
  installErrorReplies,
  notFoundReply,
  oipErrorBody,
  validationMessage,
} from "../../runtime/http/index.js";
import { GATEWAY_HTTP_ERRORS } from "../../runtime/gateway/http-errors.js";
import { INFERENCE_HTTP_ERRORS } from "../../runtime/inference/server/http-errors.js";
import { KEY_BROKER_HTTP_ERRORS } from "../../runtime/keybroker/http/problem.js";

type Code = "SLOW_DOWN" | "TOO_BIG" | "BAD_FIELD" | "NO_ROUTE" | "INTERNAL";
class AppError extends CodedError<Code> {
  constructor(
    code: Code,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message);
  }
}
const table: HttpErrorTable<Code> = {
  errorClass: AppError,
  status: { SLOW_DOWN: 429, TOO_BIG: 413, BAD_FIELD: 400, NO_ROUTE: 404, INTERNAL: 500 },
  fastify: { FST_ERR_CTP_BODY_TOO_LARGE: { code: "TOO_BIG", message: "body: too big" } },
  validation: (f) => ({ code: "BAD_FIELD", message: validationMessage(f), problems: f.problems }),
  notFound: { code: "NO_ROUTE", message: "no such route" },
};
const fastifyError = (code: string, statusCode: number, extra: object = {}) =>
  Object.assign(new Error("fastify's words, may quote input"), { code, statusCode, ...extra });

describe("httpErrorReply", () => {
  it("keeps the app's own code, message, problems and retry hint", () => {
    const e = new AppError("SLOW_DOWN", "rate limit exceeded", 2);
    expect(httpErrorReply(table, e)).toEqual({
      status: 429,
      code: "SLOW_DOWN",
      message: "rate limit exceeded",
      problems: [],
      retryAfterSeconds: 2,
      error: e,
      unrecognised: false,
    });
  });

  it.each([
    ["another module's CodedError", new CodedError("SLOW_DOWN", "foreign message")],
    ["a plain Error", new Error("SELECT secret FROM keys")],
    ["a thrown string", "boom"],
    ["undefined", undefined],
    ["an unmapped Fastify failure", fastifyError("FST_ERR_CTP_INVALID_MEDIA_TYPE", 415)],
    ["a SyntaxError without a badRequest entry", new SyntaxError("Unexpected token s in JSON")],
  ])("turns %s into INTERNAL 500 without its message", (_, err) => {
    expect(httpErrorReply(table, err)).toEqual({
      status: 500,
      code: "INTERNAL",
      message: "internal error",
      problems: [],
      unrecognised: true,
    });
  });

  it("maps Fastify's failures, schema misses and unknown routes through the table", () => {
    const validation = fastifyError("FST_ERR_VALIDATION", 400, {
      validation: [
        { instancePath: "/inputs/0", message: "must have required property 'shape'" },
        { instancePath: "", message: "must NOT have additional properties" },
      ],
      validationContext: "body",
    });
    expect([
      httpErrorReply(table, fastifyError("FST_ERR_CTP_BODY_TOO_LARGE", 413)),
      httpErrorReply(table, validation),
      notFoundReply(table),
    ]).toEqual([
      { status: 413, code: "TOO_BIG", message: "body: too big", problems: [], unrecognised: false },
      {
        status: 400,
        code: "BAD_FIELD",
        message: "body.inputs.0: must have required property 'shape'; body: must NOT have additional properties",
        problems: [
          { path: "body.inputs.0", message: "must have required property 'shape'" },
          { path: "body", message: "must NOT have additional properties" },
        ],
        unrecognised: false,
      },
      { status: 404, code: "NO_ROUTE", message: "no such route", problems: [], unrecognised: false },
    ]);
  });
});

describe("each app's table maps Fastify's failures to its own codes", () => {
  const failures = [
    "FST_ERR_CTP_BODY_TOO_LARGE",
    "FST_ERR_CTP_INVALID_MEDIA_TYPE",
    "FST_ERR_CTP_INVALID_CONTENT_LENGTH",
    "FST_ERR_CTP_EMPTY_JSON_BODY",
    "FST_ERR_CTP_INVALID_JSON_BODY",
  ];
  const row = (t: HttpErrorTable<string>) => [
    ...failures.map((c) => {
      const r = httpErrorReply(t, fastifyError(c, 400));
      return `${r.status} ${r.code}`;
    }),
    `${httpErrorReply(t, fastifyError("FST_ERR_VALIDATION", 400, { validation: [] })).code}`,
    `${notFoundReply(t).status} ${notFoundReply(t).code}`,
  ];

  it.each([
    [
      "key broker",
      KEY_BROKER_HTTP_ERRORS,
      [
        "413 BODY_TOO_LARGE",
        "415 MEDIA_TYPE_UNSUPPORTED",
        "400 BODY_MALFORMED",
        "400 BODY_MALFORMED",
        "400 BODY_MALFORMED",
        "BODY_INVALID",
        "404 ROUTE_NOT_FOUND",
      ],
    ],
    [
      "inference runtime",
      INFERENCE_HTTP_ERRORS,
      [
        "413 BODY_TOO_LARGE",
        "415 UNSUPPORTED_MEDIA_TYPE",
        "400 INVALID_REQUEST",
        "400 MALFORMED_JSON",
        "400 MALFORMED_JSON",
        "INVALID_REQUEST",
        "404 ROUTE_NOT_FOUND",
      ],
    ],
    [
      "gateway",
      GATEWAY_HTTP_ERRORS,
      [
        "413 BODY_TOO_LARGE",
        "415 UNSUPPORTED_MEDIA_TYPE",
        "500 INTERNAL",
        "500 INTERNAL",
        "500 INTERNAL",
        "ROUTE_NOT_FOUND",
        "404 ROUTE_NOT_FOUND",
      ],
    ],
  ])("%s", (_, t, expected) => {
    expect(row(t as HttpErrorTable<string>)).toEqual(expected);
  });
});

describe("installErrorReplies", () => {
  it("sends the app's body, Retry-After, the content type, and calls the app's hook", async () => {
    const seen: string[] = [];
    const app = fastify();
    installErrorReplies(app, {
      table,
      body: oipErrorBody,
      contentType: "application/problem+json",
      onError: (req, r, err) => seen.push(`${req.url} ${r.code} ${err === undefined ? "-" : "err"}`),
    });
    app.get("/slow", async () => {
      throw new AppError("SLOW_DOWN", "rate limit exceeded", 3);
    });
    app.get("/bug", async () => {
      throw new Error("secret detail");
    });
    const [slow, bug, missing] = await Promise.all(
      ["/slow", "/bug", "/nowhere"].map((url) => app.inject({ method: "GET", url })),
    );
    expect(
      [slow, bug, missing].map((r) => [
        r!.statusCode,
        r!.headers["retry-after"],
        r!.headers["content-type"],
        r!.json(),
      ]),
    ).toEqual([
      [429, "3", "application/problem+json; charset=utf-8", { error: "rate limit exceeded", code: "SLOW_DOWN" }],
      [500, undefined, "application/problem+json; charset=utf-8", { error: "internal error", code: "INTERNAL" }],
      [404, undefined, "application/problem+json; charset=utf-8", { error: "no such route", code: "NO_ROUTE" }],
    ]);
    expect(seen.sort()).toEqual(["/bug INTERNAL err", "/nowhere NO_ROUTE -", "/slow SLOW_DOWN err"]);
    await app.close();
  });
});
