/** The error base (core/errors.ts): codes, causes and problems, and the one zod-issue translator. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CodedError,
  fieldPath,
  formatProblems,
  isCodedError,
  problemCount,
  problemsFromIssues,
} from "../../core/errors.js";

class WidgetError extends CodedError<"WIDGET_INVALID" | "WIDGET_MISSING"> {}

describe("CodedError", () => {
  it("keeps code, message, cause and problems, and names itself after its class", () => {
    const cause = new Error("inner");
    const problems = [{ path: "size", message: "must be positive" }];
    const e = new WidgetError("WIDGET_INVALID", "size: must be positive", { cause, problems });
    expect([e.name, e.code, e.message, e.cause, e.problems, e instanceof Error, isCodedError(e)]).toEqual([
      "WidgetError",
      "WIDGET_INVALID",
      "size: must be positive",
      cause,
      problems,
      true,
      true,
    ]);
    const bare = new WidgetError("WIDGET_MISSING", "no widget");
    expect([bare.problems, "cause" in bare, isCodedError(new Error("x"))]).toEqual([[], false, false]);
  });
});

describe("problemsFromIssues", () => {
  const schema = z.strictObject({
    name: z.string().min(1),
    hosts: z.array(z.strictObject({ address: z.string() })),
    labels: z.record(z.string().regex(/^[a-z]+$/, "lower-case letters"), z.string()).optional(),
  });
  const issues = schema.safeParse({ name: "", hosts: [{ address: 1, port: 22 }], labels: { Bad: "x" }, extra: 1 }).error
    ?.issues;

  it("gives dotted paths with [i] for indices, one problem per unknown key, sorted by path", () => {
    expect(problemsFromIssues(issues ?? [])).toEqual([
      { path: "extra", message: "unknown key" },
      { path: "hosts[0].address", message: "Invalid input: expected string, received number" },
      { path: "hosts[0].port", message: "unknown key" },
      { path: "labels.Bad", message: "lower-case letters" },
      { path: "name", message: "Too small: expected string to have >=1 characters" },
    ]);
  });

  it("prefixes paths, names the root, and rewords unknown and invalid keys on request", () => {
    expect(
      problemsFromIssues(issues ?? [], { prefix: "cfg", unknownKey: "not a setting", invalidKey: "bad label" }).map(
        (p) => `${p.path}: ${p.message}`,
      ),
    ).toEqual([
      "cfg.extra: not a setting",
      "cfg.hosts[0].address: Invalid input: expected string, received number",
      "cfg.hosts[0].port: not a setting",
      "cfg.labels.Bad: bad label",
      "cfg.name: Too small: expected string to have >=1 characters",
    ]);
    const root = z.string().safeParse(1).error?.issues ?? [];
    expect([
      problemsFromIssues(root),
      problemsFromIssues(root, { root: "(body)" }),
      problemsFromIssues(root, { root: "" }),
      problemsFromIssues(root, { prefix: "keyBroker" }),
      problemsFromIssues(z.array(z.string()).safeParse([1]).error?.issues ?? [], { prefix: "policy" }),
    ]).toEqual([
      [{ path: "(root)", message: "Invalid input: expected string, received number" }],
      [{ path: "(body)", message: "Invalid input: expected string, received number" }],
      [{ path: "", message: "Invalid input: expected string, received number" }],
      [{ path: "keyBroker", message: "Invalid input: expected string, received number" }],
      [{ path: "policy[0]", message: "Invalid input: expected string, received number" }],
    ]);
  });

  it("formats paths and problem lists", () => {
    expect([
      fieldPath(["hosts", 1, "address"]),
      fieldPath([0, "a"]),
      fieldPath([]),
      formatProblems([
        { path: "a", message: "x" },
        { path: "b[0]", message: "y" },
      ]),
      formatProblems([{ path: "a", message: "x" }], "\n"),
      problemCount([1]),
      problemCount([1, 2]),
    ]).toEqual(["hosts[1].address", "[0].a", "", "a: x; b[0]: y", "a: x", "1 problem", "2 problems"]);
  });
});
