import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseUrn } from "../../stacks/render/recorder.js";
import { renderRegistration } from "../../stacks/render/render.js";
import { SECRET_MASK, UNKNOWN_MASK, maskForReview, secretPaths, unwrapSecrets } from "../../stacks/render/serialize.js";

const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

describe("render serialisation", () => {
  it("masks secrets and unknowns and sorts keys", () => {
    expect(
      JSON.stringify(
        maskForReview({
          b: secret("pin"),
          a: [{ __pulumiUnknown: true }, "04da6b54-80e4-46f7-96ec-b56ff0331ba9", 1],
          c: { __pulumiAsset: true, path: {} },
        }),
      ),
    ).toBe(
      JSON.stringify({
        a: [UNKNOWN_MASK, UNKNOWN_MASK, 1],
        b: SECRET_MASK,
        c: { asset: "file (identified by its triggers)" },
      }),
    );
  });

  it("unwraps secrets and lists where they were", () => {
    const inputs = { stringData: secret({ pin: "1234" }), metadata: { name: "x" }, list: [secret("a")] };
    expect(unwrapSecrets(inputs)).toEqual({ stringData: { pin: "1234" }, metadata: { name: "x" }, list: ["a"] });
    expect(secretPaths(inputs)).toEqual(["stringData", "list[0]"]);
  });

  it("parses parents from URNs", () => {
    expect(
      parseUrn(
        "urn:pulumi:prod::confidential-inference::confidential-inference:index:SevSnpHost$command:remote:Command::snp-1-preflight",
      ),
    ).toEqual({ type: "command:remote:Command", name: "snp-1-preflight" });
    expect(parseUrn("not-a-urn")).toBeUndefined();
  });

  it("shows embedded scripts by digest and keeps other long text", () => {
    const script = `sudo -n env A='1' bash -c '#!/usr/bin/env bash\n${"echo x\n".repeat(500)}' 'preflight'`;
    const unit = `sudo -n sh -c '${"[Unit]\n".repeat(500)}'`;
    const r = renderRegistration({
      type: "command:remote:Command",
      name: "c",
      custom: true,
      inputs: { create: script, update: unit },
      parent: { type: "T", name: "p" },
    });
    expect(r.parent).toBe("T::p");
    expect((r.inputs as { create: string }).create).toMatch(
      /^\[3560 characters, sha256 [0-9a-f]{64}\] sudo -n env A='1' bash -c '#!\/usr\/bin\/env bash$/,
    );
    expect((r.inputs as { update: string }).update).toBe(unit);
  });
});
