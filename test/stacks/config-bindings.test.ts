/**
 * Config rules that keep what runs measured: no unmeasured root file system, and confidential pods
 * bound to their Kata guest's launch shape (whose golden entry binds their initdata as HOST_DATA).
 */
import { describe, expect, it } from "vitest";
import { unmeasuredRoot } from "../../stacks/config-rules.js";
import { edit, NS, problems } from "../helpers/stack-config.js";

describe("measured workloads", () => {
  it.each([
    [
      "a root file system the launch measurement does not cover",
      edit("staging", "launchShapes", (v) => [{ ...v[0], cmdline: "console=ttyS0 root=/dev/vda1 ro" }, ...v.slice(1)]),
      [
        `${NS}:launchShapes[0].cmdline: mounts an unmeasured root (root= without dm-verity): the host could swap the runtime and the evidence would still match; boot from the measured initrd, or add a dm-verity root hash`,
      ],
    ],
    [
      "confidential pods without the launch shape of their Kata guest",
      edit("staging", "inference", (v) => ({ ...v, launchShape: undefined })),
      [
        `${NS}:inference.launchShape: required with inference.runtimeClassName: the launch shape of the pods' Kata guest, whose golden entry binds their initdata as HOST_DATA (without it any container in that guest would attest)`,
      ],
    ],
    [
      "the pods' Kata guest shared with a VM",
      edit("staging", "inference", (v) => ({ ...v, launchShape: "runtime-standard" })),
      [
        `${NS}:hosts[0].guests[0].launchShape: "runtime-standard" is the confidential pods' Kata guest (inference.launchShape), which binds their HOST_DATA; a VM needs its own launch shape`,
        `${NS}:hosts[1].guests[0].launchShape: "runtime-standard" is the confidential pods' Kata guest (inference.launchShape), which binds their HOST_DATA; a VM needs its own launch shape`,
      ],
    ],
    [
      "a HOST_DATA of its own on the pods' launch shape",
      edit("staging", "launchShapes", (v) =>
        v.map((x: any) => (x.name === "kata-pod" ? { ...x, hostData: "ab".repeat(32) } : x)),
      ),
      [
        `${NS}:launchShapes[1].hostData: the confidential pods' launch shape gets its HOST_DATA from their initdata; remove this key`,
      ],
    ],
  ] as const)("%s", (_name, input, expected) => {
    expect(problems(input.raw, input.secretKeys)).toEqual(expected);
  });
});

describe("unmeasured roots", () => {
  it.each([
    ["console=ttyS0 root=/dev/vda1 ro", true],
    ["console=ttyS0 cvm.role=inference", false],
    [`root=/dev/dm-0 systemd.verity=1 roothash=${"ab".repeat(32)}`, false],
    ['root=/dev/dm-0 dm-mod.create="vroot,,,ro,0 1 verity 1 /dev/vda1 /dev/vda2 4096 4096 1 1 sha256 ab cd"', false],
    ["rootfstype=ext4 console=hvc0", false],
  ])("%s -> unmeasured %s", (cmdline, expected) => {
    expect(unmeasuredRoot(cmdline)).toBe(expected);
  });
});
