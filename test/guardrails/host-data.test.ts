/**
 * CrossGuard `confidential-pod-binds-host-data`: a runtime pod in a confidential RuntimeClass
 * carries Kata initdata that pins its own image; and the rendered staging and prod states pass it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KATA_INITDATA_ANNOTATION, runtimeInitData } from "../../components/inference/initdata.js";
import { RUNTIME_ARGS, RUNTIME_MOUNTS } from "../../components/inference/workloads.js";
import { confidentialPodBindsHostData } from "../../guardrails/workloads.js";
import type { RenderedState } from "../../stacks/render/render.js";
import { runPolicy, type PolicyInput } from "../helpers/policy-harness.js";

const IMAGE = `registry.example/runtime@sha256:${"a".repeat(64)}`;
const initData = (image: string) =>
  runtimeInitData({
    image,
    brokerUrl: "https://key-broker.ci-keys.svc.cluster.local:8444",
    args: RUNTIME_ARGS,
    mounts: RUNTIME_MOUNTS,
  });

const runtime = (annotations: Record<string, string>, runtimeClassName?: string): PolicyInput => ({
  type: "kubernetes:apps/v1:Deployment",
  name: "inference-runtime",
  props: {
    metadata: { name: "inference-runtime", labels: { "confidential-inference/environment": "prod" } },
    spec: {
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "inference-runtime" }, annotations },
        spec: { ...(runtimeClassName ? { runtimeClassName } : {}), containers: [{ name: "runtime", image: IMAGE }] },
      },
    },
  },
});

describe("confidential-pod-binds-host-data", () => {
  it.each([
    [
      "initdata pinning the pod's image",
      { [KATA_INITDATA_ANNOTATION]: initData(IMAGE).annotation },
      "kata-qemu-snp",
      [],
    ],
    ["a plain pod (dev)", {}, undefined, []],
    [
      "no initdata",
      {},
      "kata-qemu-snp",
      [
        `inference runtime in kata-qemu-snp has no ${KATA_INITDATA_ANNOTATION} annotation: its HOST_DATA would bind no workload`,
      ],
    ],
    [
      "initdata of another image",
      { [KATA_INITDATA_ANNOTATION]: initData(`registry.example/runtime@sha256:${"b".repeat(64)}`).annotation },
      "kata-qemu-snp",
      [`the Kata initdata does not pin container runtime's image ${IMAGE}`],
    ],
    [
      "an annotation that is not gzip",
      { [KATA_INITDATA_ANNOTATION]: "bm90IGd6aXA=" },
      "kata-qemu-snp",
      [`${KATA_INITDATA_ANNOTATION} is not base64 of gzip`],
    ],
  ] as const)("%s", async (_n, annotations, rc, messages) => {
    expect((await runPolicy(confidentialPodBindsHostData, [runtime(annotations, rc)])).map((v) => v.message)).toEqual(
      messages,
    );
  });

  it.each(["staging", "prod"])("the rendered %s runtime pods carry initdata pinning their image", (stack) => {
    const state = JSON.parse(
      readFileSync(join(__dirname, "../../stacks/rendered", `${stack}.json`), "utf8"),
    ) as RenderedState;
    const d = state.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "inference-runtime");
    const template = (d?.inputs as any).spec.template;
    const image = template.spec.containers[0].image as string;
    expect(template.metadata.annotations[KATA_INITDATA_ANNOTATION]).toBe(
      runtimeInitData({
        image,
        brokerUrl: `https://key-broker.ci-keys.svc.cluster.local:8444`,
        args: RUNTIME_ARGS,
        mounts: RUNTIME_MOUNTS,
      }).annotation,
    );
  });
});
