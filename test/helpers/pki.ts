/**
 * Test PKI made at test time with the openssl CLI (never committed): CAs and leaf certificates (P-256) for
 * mTLS on loopback. Private keys live only in memory and a temporary folder removed at once.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTool } from "./system-tools.js";

/** A certificate and its key (PEM). */
export interface CertKey {
  readonly cert: string;
  readonly key: string;
}

function openssl(dir: string, args: string[]): void {
  requireTool("openssl");
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA that issues leaf certificates. */
export interface TestCa extends CertKey {
  /** Issues a leaf (server and client usage) with `cn`; SANs default to localhost and 127.0.0.1. */
  issue(cn: string, opts?: { san?: string; days?: number }): CertKey;
}

/** Creates a self-signed CA named `cn`. */
export function createTestCa(cn: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "ci-pki-"));
  try {
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
    openssl(dir, [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
      "-out",
      "ca.pem",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    const ca = { cert: readFileSync(join(dir, "ca.pem"), "utf8"), key: readFileSync(join(dir, "ca.key"), "utf8") };
    return { ...ca, issue: (leaf, opts) => issue(ca, leaf, opts) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function issue(ca: CertKey, cn: string, opts: { san?: string; days?: number } = {}): CertKey {
  const dir = mkdtempSync(join(tmpdir(), "ci-pki-"));
  try {
    writeFileSync(join(dir, "ca.pem"), ca.cert);
    writeFileSync(join(dir, "ca.key"), ca.key, { mode: 0o600 });
    writeFileSync(
      join(dir, "ext.cnf"),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${opts.san ?? "DNS:localhost,IP:127.0.0.1"}\n`,
    );
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key"]);
    openssl(dir, ["req", "-new", "-key", "leaf.key", "-subj", `/CN=${cn}`, "-out", "leaf.csr"]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      String(opts.days ?? 1),
      "-extfile",
      "ext.cnf",
      "-out",
      "leaf.pem",
    ]);
    return { cert: readFileSync(join(dir, "leaf.pem"), "utf8"), key: readFileSync(join(dir, "leaf.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
