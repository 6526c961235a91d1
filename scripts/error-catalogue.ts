/**
 * The catalogue of every module's public error codes, read from each module's face, and its rendering as
 * `docs/errors.md` (`npx tsx scripts/error-reference.ts`; a test keeps the committed copy current). Meanings
 * live next to the codes in each module's `errors.ts`; this file only says which table goes where.
 */
import type { CodedError } from "../core/errors.js";
import { COMPONENT_ERROR_CODES, COMPONENT_ERROR_MEANINGS, ComponentError } from "../components/index.js";
import { IMAGE_ERROR_CODES, IMAGE_ERROR_MEANINGS, ImageError } from "../images/index.js";
import {
  DRIFT_ERROR_CODES,
  DRIFT_ERROR_MEANINGS,
  DRIFT_ERROR_SEVERITY,
  DriftError,
} from "../measurements/drift/index.js";
import { MANIFEST_ERROR_CODES, MANIFEST_ERROR_MEANINGS, ManifestError } from "../measurements/manifest/index.js";
import {
  SNP_MEASUREMENT_ERROR_CODES,
  SNP_MEASUREMENT_ERROR_MEANINGS,
  SNP_USAGE_ERROR_CODES,
  SnpMeasurementError,
} from "../measurements/snp/index.js";
import { ATTESTATION_ERROR_CODES, ATTESTATION_ERROR_MEANINGS, AttestationError } from "../runtime/attestation/index.js";
import { ATTESTER_ERROR_CODES, ATTESTER_ERROR_MEANINGS, AttesterError } from "../runtime/attester/index.js";
import { BUNDLE_ERROR_CODES, BUNDLE_ERROR_MEANINGS, BundleError } from "../runtime/attestation-bundle/index.js";
import { CLIENT_ERROR_CODES, CLIENT_ERROR_MEANINGS, ClientError } from "../runtime/client/index.js";
import { OHTTP_ERROR_CODES, OHTTP_ERROR_MEANINGS, OhttpError } from "../runtime/ohttp/index.js";
import {
  GATEWAY_ERROR_CODES,
  GATEWAY_ERROR_MEANINGS,
  GATEWAY_ERROR_STATUS,
  GatewayError,
} from "../runtime/gateway/index.js";
import {
  CONFIDENTIAL_ERROR_CODES,
  CONFIDENTIAL_ERROR_MEANINGS,
  CONFIDENTIAL_ERROR_STATUS,
  ConfidentialError,
  GENERATION_ERROR_CODES,
  GENERATION_ERROR_MEANINGS,
  GenerationError,
  INFERENCE_ERROR_CODES,
  INFERENCE_ERROR_MEANINGS,
  INFERENCE_ERROR_STATUS,
  InferenceError,
} from "../runtime/inference/index.js";
import {
  KEY_BROKER_ERROR_CODES,
  KEY_BROKER_ERROR_MEANINGS,
  KEY_BROKER_ERROR_STATUS,
  KeyBrokerError,
  PROBLEM_TYPE_PREFIX,
} from "../runtime/keybroker/index.js";
import {
  SANDBOX_ERROR_CODES,
  SANDBOX_ERROR_FIXES,
  SANDBOX_ERROR_MEANINGS,
  SandboxError,
} from "../runtime/sandbox/index.js";
import { ConfigError, FileError, STACK_ERROR_CODES, STACK_ERROR_MEANINGS } from "../stacks/index.js";

/** An extra column of a module's table (severity, CLI exit, what to do). */
export interface ErrorColumn {
  readonly header: string;
  readonly values: Readonly<Record<string, string>>;
  /** Where the column goes: before the meaning (short values) or after it; default before. */
  readonly after?: boolean;
}

/** One module's public error codes. */
export interface ErrorModule {
  /** Folder of the module (`runtime/keybroker`). */
  readonly module: string;
  /** The module's error classes (each extends `CodedError`). */
  readonly classes: readonly (abstract new (...args: never[]) => CodedError)[];
  /** Every code, in documentation order (the module's `X_ERROR_CODES`). */
  readonly codes: readonly string[];
  /** One line per code (the module's `X_ERROR_MEANINGS`). */
  readonly meanings: Readonly<Record<string, string>>;
  /** HTTP status per code, for modules that answer over HTTP. */
  readonly status?: Readonly<Record<string, number>>;
  readonly extra?: ErrorColumn;
  /** What the section says before its table (Markdown). */
  readonly intro: string;
}

const OIP_BODY = 'Every error body is the Open Inference Protocol error JSON `{"error": message, "code": CODE}`';

/** Every module with public error codes, in documentation order. */
export const ERROR_MODULES: readonly ErrorModule[] = [
  {
    module: "measurements/snp",
    classes: [SnpMeasurementError],
    codes: SNP_MEASUREMENT_ERROR_CODES,
    meanings: SNP_MEASUREMENT_ERROR_MEANINGS,
    extra: {
      header: "CLI exit",
      values: Object.fromEntries(
        SNP_MEASUREMENT_ERROR_CODES.map((c) => [c, SNP_USAGE_ERROR_CODES.includes(c) ? "2" : "1"]),
      ),
    },
    intro:
      "The launch-digest calculator. `SnpMeasurementError` has `field`, the option or firmware part at fault; " +
      "caller misuse is a `TypeError`. `attestctl measure snp` exits 2 for codes about how it was asked, 1 for the firmware.",
  },
  {
    module: "measurements/manifest",
    classes: [ManifestError],
    codes: MANIFEST_ERROR_CODES,
    meanings: MANIFEST_ERROR_MEANINGS,
    intro: "Golden manifests. Caller misuse such as a non-P-384 key is a `TypeError`.",
  },
  {
    module: "measurements/drift",
    classes: [DriftError],
    codes: DRIFT_ERROR_CODES,
    meanings: DRIFT_ERROR_MEANINGS,
    extra: { header: "severity", values: DRIFT_ERROR_SEVERITY },
    intro:
      "Codes of the findings `compareManifests` returns (`errors` and `warnings`); `assertNoDriftErrors` throws a " +
      "`DriftError` whose `code` is the first error's and whose `findings` list them all.",
  },
  {
    module: "runtime/attestation",
    classes: [AttestationError],
    codes: ATTESTATION_ERROR_CODES,
    meanings: ATTESTATION_ERROR_MEANINGS,
    intro:
      "The verifier; each meaning starts with the step that raises it. `AttestationError` has `path`, the field that " +
      "failed; caller misuse is a `TypeError`.",
  },
  {
    module: "runtime/attester",
    classes: [AttesterError],
    codes: ATTESTER_ERROR_CODES,
    meanings: ATTESTER_ERROR_MEANINGS,
    intro:
      "Inside the guest: evidence providers and the KBS client. `AttesterError` has `path` and, for client errors, " +
      "`details` (`status`, `serverCode`, `driftClass` of the broker's answer).",
  },
  {
    module: "runtime/ohttp",
    classes: [OhttpError],
    codes: OHTTP_ERROR_CODES,
    meanings: OHTTP_ERROR_MEANINGS,
    intro:
      "The Oblivious HTTP codec (Binary HTTP, key configurations, OHTTP and chunked OHTTP; see docs/ohttp.md for " +
      "the statuses the HTTP layers use). `OhttpError` has `path`, the field or chunk at fault.",
  },
  {
    module: "runtime/attestation-bundle",
    classes: [BundleError],
    codes: BUNDLE_ERROR_CODES,
    meanings: BUNDLE_ERROR_MEANINGS,
    intro:
      "The attestation bundle format a runtime publishes (docs/confidential-requests.md). The client library " +
      "reports a malformed bundle as `runtime/client`'s `BUNDLE_MALFORMED` and sends nothing.",
  },
  {
    module: "runtime/keybroker",
    classes: [KeyBrokerError],
    codes: KEY_BROKER_ERROR_CODES,
    meanings: KEY_BROKER_ERROR_MEANINGS,
    status: KEY_BROKER_ERROR_STATUS,
    intro:
      "Both listeners (KBS and admin) answer with an RFC 7807 problem body `{type, detail, code}` (+ `driftClass`, " +
      `\`problems\` where they apply); \`type\` is \`${PROBLEM_TYPE_PREFIX}<CODE>\`. \`start-up\` codes end the start ` +
      "(exit 1) and never reach a client.",
  },
  {
    module: "runtime/inference",
    classes: [InferenceError],
    codes: INFERENCE_ERROR_CODES,
    meanings: INFERENCE_ERROR_MEANINGS,
    status: INFERENCE_ERROR_STATUS,
    intro: `The inference runtime. ${OIP_BODY}, with \`Retry-After\` where noted. \`boot\` codes end the boot (exit 1) and never reach a client.`,
  },
  {
    module: "runtime/inference/generation",
    classes: [GenerationError],
    codes: GENERATION_ERROR_CODES,
    meanings: GENERATION_ERROR_MEANINGS,
    intro:
      "The generation engine (decoder models: prefill, KV cache, sampling, stop sequences). On `/v1` the runtime answers them with its own codes: the first three keep their names, `ENGINE_BUSY` is `QUEUE_FULL`, `ENGINE_CLOSED` is `SHUTTING_DOWN`, `GENERATION_FAILED` is `INFERENCE_FAILED`; loading failures end the boot as `MODEL_LOAD_FAILED` or `TOKENIZER_INVALID`.",
  },
  {
    module: "runtime/inference/confidential",
    classes: [ConfidentialError],
    codes: CONFIDENTIAL_ERROR_CODES,
    meanings: CONFIDENTIAL_ERROR_MEANINGS,
    status: CONFIDENTIAL_ERROR_STATUS,
    intro:
      "The runtime's confidential endpoint (`/attestation`, `/ohttp-keys`, `/ohttp`; docs/confidential-requests.md). " +
      "Errors are answered in clear as `application/problem+json` `{type, title, code}` (RFC 9458 section 5.2); " +
      "the codec's failures keep their `runtime/ohttp` codes (400, 413 for `MESSAGE_TOO_LARGE`), key problems carry " +
      "the `ohttp-key` problem type (RFC 9458 section 5.3).",
  },
  {
    module: "runtime/client",
    classes: [ClientError],
    codes: CLIENT_ERROR_CODES,
    meanings: CLIENT_ERROR_MEANINGS,
    intro:
      "The confidential client and `attestctl proxy`. Every code but `RELAY_FAILED` and `RESPONSE_INVALID` is a " +
      "refusal before anything is sent; the proxy answers 502 `{error, code}` with it (the gateway's own refusals keep " +
      "their status, with `upstreamCode`). `ClientError` has `details` (`status`, `upstreamCode`, verifier `failures`).",
  },
  {
    module: "runtime/gateway",
    classes: [GatewayError],
    codes: GATEWAY_ERROR_CODES,
    meanings: GATEWAY_ERROR_MEANINGS,
    status: GATEWAY_ERROR_STATUS,
    intro: `The gateway (outside the boundary). ${OIP_BODY}; errors from a runtime (\`runtime/inference\`) are passed through unchanged.`,
  },
  {
    module: "runtime/sandbox",
    classes: [SandboxError],
    codes: SANDBOX_ERROR_CODES,
    meanings: SANDBOX_ERROR_MEANINGS,
    extra: { header: "what to do", values: SANDBOX_ERROR_FIXES, after: true },
    intro:
      "`attestctl sandbox` prints `attestctl sandbox: CODE: message` on stderr and exits 1 (usage errors exit 2). " +
      "Service logs are in `.sandbox/logs/`; the broker's decisions in `.sandbox/keybroker/state/audit.log`.",
  },
  {
    module: "images",
    classes: [ImageError],
    codes: IMAGE_ERROR_CODES,
    meanings: IMAGE_ERROR_MEANINGS,
    intro:
      "`attestctl image build --target oci` prints `attestctl image build: CODE: message` on stderr and exits 1; " +
      "nothing from a refused input is cached or written into an image.",
  },
  {
    module: "components",
    classes: [ComponentError],
    codes: COMPONENT_ERROR_CODES,
    meanings: COMPONENT_ERROR_MEANINGS,
    intro:
      "What a host or a key reports at deploy time. Invalid component arguments are caller errors and fail with " +
      "`pulumi.InputPropertyError` (one problem; its `propertyPath` names the argument) or " +
      "`pulumi.InputPropertiesError` (several) before the component creates any child: they have no code here.",
  },
  {
    module: "stacks",
    classes: [ConfigError, FileError],
    codes: STACK_ERROR_CODES,
    meanings: STACK_ERROR_MEANINGS,
    intro:
      "The stack program and the offline tools that read stack files (`attestctl golden`, `attestctl render`). " +
      "`ConfigError` is `CONFIG_INVALID`, with every problem as `confidential-inference:<path>: <message>`; " +
      "`FileError` is `FILE_UNREADABLE`.",
  },
];

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function table(m: ErrorModule): string[] {
  const before = m.extra && !m.extra.after ? m.extra : undefined;
  const after = m.extra?.after ? m.extra : undefined;
  const headers = [
    "code",
    ...(m.status ? ["HTTP"] : []),
    ...(before ? [before.header] : []),
    "meaning",
    ...(after ? [after.header] : []),
  ];
  const rows = m.codes.map((code) => {
    const cells = [
      `\`${code}\``,
      ...(m.status ? [String(m.status[code])] : []),
      ...(before ? [cell(before.values[code] ?? "")] : []),
      cell(m.meanings[code] ?? ""),
      ...(after ? [cell(after.values[code] ?? "")] : []),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`, ...rows];
}

/** The text of `docs/errors.md`. */
export function errorReference(modules: readonly ErrorModule[] = ERROR_MODULES): string {
  const lines = [
    "# Error codes",
    "",
    "<!-- Generated from each module's errors.ts by `npx tsx scripts/error-reference.ts`; do not edit by hand. -->",
    "",
    "Every failure on untrusted input raises a module error (a `CodedError` from `core/errors.ts`) with a stable",
    "`code`, the `cause` forwarded and, for validation, `problems`: every field path at fault. Caller misuse raises",
    "`TypeError`. Codes are public API: renames and moves are listed in [CHANGELOG.md](../CHANGELOG.md).",
    "",
    "Over HTTP, each app maps its codes to a status with one shared mapping (`runtime/http`); anything unexpected",
    "is `INTERNAL` 500 with the fixed message `internal error`.",
    "",
    ...modules.map((m) => `- [\`${m.module}\`](#${m.module.replace(/\//g, "")})`),
  ];
  for (const m of modules) {
    const names = m.classes.map((c) => `\`${c.name}\``).join(", ");
    lines.push("", `## ${m.module}`, "", `${names} (\`${m.module}/errors.ts\`). ${m.intro}`, "", ...table(m));
  }
  return `${lines.join("\n")}\n`;
}
