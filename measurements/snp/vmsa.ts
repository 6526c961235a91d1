/**
 * Initial VMSA pages (the SEV-ES save area each vCPU starts from), as KVM sets them up for QEMU
 * (Linux >= 6.10), EC2 and GCE, and as Coconut-SVSM's QEMU sets them up. Offsets: AMD64 APM Vol. 2,
 * appendix B, table B-4 "VMSA Layout, State Save Area for SEV-ES" (Linux `struct sev_es_save_area`).
 */
import { PAGE_SIZE } from "./gctx.js";
import type { VmmType } from "./modes.js";

/** Reset EIP of the bootstrap processor (the x86 reset vector). */
export const BSP_RESET_EIP = 0xffff_fff0;

/** Register values that differ between VMSA pages. */
export interface VmsaParams {
  /** Reset EIP: {@link BSP_RESET_EIP} for the BSP, the SEV-ES reset block's address for APs. */
  readonly eip: number;
  /** SEV_FEATURES (offset 0x3B0): the guest features for SNP, 0 for SEV-ES. */
  readonly sevFeatures: bigint;
  /** CPUID signature placed in RDX (ignored for ec2 and gce, which put 0x600 there). */
  readonly vcpuSignature: bigint;
  /** Which VMM's initial state to model. */
  readonly vmmType: VmmType;
}

// Segment registers: 16 bytes each (u16 selector, u16 attributes in VMCB format, u32 limit, u64 base).
const SEG = {
  es: 0x00,
  cs: 0x10,
  ss: 0x20,
  ds: 0x30,
  fs: 0x40,
  gs: 0x50,
  gdtr: 0x60,
  ldtr: 0x70,
  idtr: 0x80,
  tr: 0x90,
} as const;
const OFF = {
  efer: 0xd0,
  cr4: 0x148,
  cr0: 0x158,
  dr7: 0x160,
  dr6: 0x168,
  rflags: 0x170,
  rip: 0x178,
  gPat: 0x268,
  rdx: 0x310,
  sevFeatures: 0x3b0,
  xcr0: 0x3e8,
  mxcsr: 0x408,
  x87Fcw: 0x410,
} as const;

const EFER_SVME = 0x1000n;
const CR4_MCE = 0x40n;
const DR6_RESET = 0xffff_0ff0n;
const DR7_RESET = 0x400n;
const RFLAGS_RESET = 0x2n;
const PAT_DEFAULT = 0x0007_0406_0007_0406n; // AMD64 APM Vol. 2, section A.3: PAT MSR reset value
const PAT_GCE = 0x0000_0000_0007_0106n;
const FIXED_RDX = 0x600n; // EC2 and GCE start every vCPU with RDX = 0x600 whatever the CPU model

function segment(page: Buffer, at: number, selector: number, attributes: number, limit: number, base: number): void {
  page.writeUInt16LE(selector, at);
  page.writeUInt16LE(attributes, at + 2);
  page.writeUInt32LE(limit, at + 4);
  page.writeBigUInt64LE(BigInt(base), at + 8);
}

function commonRegisters(page: Buffer, cr0: bigint): void {
  page.writeBigUInt64LE(EFER_SVME, OFF.efer);
  page.writeBigUInt64LE(CR4_MCE, OFF.cr4);
  page.writeBigUInt64LE(cr0, OFF.cr0);
  page.writeBigUInt64LE(DR7_RESET, OFF.dr7);
  page.writeBigUInt64LE(DR6_RESET, OFF.dr6);
  page.writeBigUInt64LE(RFLAGS_RESET, OFF.rflags);
  page.writeBigUInt64LE(1n, OFF.xcr0);
}

/**
 * The initial VMSA page of one vCPU in real mode at `eip` (CS base `eip & 0xFFFF0000`, RIP
 * `eip & 0xFFFF`), for the `snp` and `seves` modes.
 */
export function buildVmsaPage(params: VmsaParams): Buffer {
  const { eip, vmmType } = params;
  const page = Buffer.alloc(PAGE_SIZE);
  const ec2 = vmmType === "ec2";
  const csAttributes = ec2 && eip === BSP_RESET_EIP ? 0x9a : 0x9b;
  segment(page, SEG.es, 0, 0x93, 0xffff, 0);
  segment(page, SEG.cs, 0xf000, csAttributes, 0xffff, (eip & 0xffff_0000) >>> 0);
  segment(page, SEG.ss, 0, ec2 ? 0x92 : 0x93, 0xffff, 0);
  segment(page, SEG.ds, 0, 0x93, 0xffff, 0);
  segment(page, SEG.fs, 0, 0x93, 0xffff, 0);
  segment(page, SEG.gs, 0, 0x93, 0xffff, 0);
  segment(page, SEG.gdtr, 0, 0, 0xffff, 0);
  segment(page, SEG.ldtr, 0, 0x82, 0xffff, 0);
  segment(page, SEG.idtr, 0, 0, 0xffff, 0);
  segment(page, SEG.tr, 0, ec2 ? 0x83 : 0x8b, 0xffff, 0);
  commonRegisters(page, 0x10n);
  page.writeBigUInt64LE(BigInt(eip & 0xffff), OFF.rip);
  page.writeBigUInt64LE(vmmType === "gce" ? PAT_GCE : PAT_DEFAULT, OFF.gPat);
  page.writeBigUInt64LE(vmmType === "QEMU" ? params.vcpuSignature : FIXED_RDX, OFF.rdx);
  page.writeBigUInt64LE(params.sevFeatures, OFF.sevFeatures);
  if (vmmType === "QEMU") {
    page.writeUInt32LE(0x1f80, OFF.mxcsr); // MXCSR reset value
    page.writeUInt16LE(0x037f, OFF.x87Fcw); // x87 FCW reset value
  }
  return page;
}

/**
 * The VMSA page Coconut-SVSM's QEMU gives every vCPU (all identical): 32-bit protected mode with
 * flat segments, RIP = the SVSM entry point, SEV_FEATURES 0x1. The x87 FCW stays 0: the reference
 * tool sets it under a name that is not a field, and its digests (validated on hardware upstream)
 * depend on that.
 */
export function buildSvsmVmsaPage(rip: number, vcpuSignature: bigint): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  segment(page, SEG.es, 0x10, 0xc93, 0xffff_ffff, 0);
  segment(page, SEG.cs, 0x08, 0xc9b, 0xffff_ffff, 0);
  segment(page, SEG.ss, 0x10, 0xc93, 0xffff_ffff, 0);
  segment(page, SEG.ds, 0x10, 0xc93, 0xffff_ffff, 0);
  segment(page, SEG.fs, 0x10, 0xc93, 0xffff_ffff, 0);
  segment(page, SEG.gs, 0, 0x93, 0xffff, 0);
  segment(page, SEG.gdtr, 0, 0, 0xffff, 0);
  segment(page, SEG.ldtr, 0, 0x82, 0xffff, 0);
  segment(page, SEG.idtr, 0, 0, 0xffff, 0);
  segment(page, SEG.tr, 0, 0x8b, 0xffff, 0);
  commonRegisters(page, 0x11n);
  page.writeBigUInt64LE(BigInt(rip), OFF.rip);
  page.writeBigUInt64LE(PAT_DEFAULT, OFF.gPat);
  page.writeBigUInt64LE(vcpuSignature, OFF.rdx);
  page.writeBigUInt64LE(1n, OFF.sevFeatures);
  page.writeUInt32LE(0x1f80, OFF.mxcsr);
  return page;
}
