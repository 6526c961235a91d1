/**
 * bench/keybroker: the raw crypto operations one KBS handshake needs on both sides, each timed
 * alone in the bench process (mean ms per handshake). See index.ts for what is counted and why.
 */
import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { join } from "node:path";
import { pointFromJwk } from "../../core/index.js";
import { Pkcs11Token } from "../../runtime/keybroker/hsm/pkcs11.js";
import { ensureSoftHsmToken, SOFTHSM2_MODULE, useSoftHsm } from "../../runtime/keybroker/hsm/softhsm.js";
import { concatKdf, decryptFromTeeKey, encryptToTeeKey } from "../../runtime/kbs-protocol/jwe.js";

/** Mean ms of `fn` over `n` runs (after a short warm-up). */
export async function timeOp(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t) / n;
}

/** The primitives of one ECDH-ES+A256KW/A256GCM encryption, without JOSE framing. */
function rawJweEncrypt(recipient: ReturnType<typeof generateKeyPairSync>["publicKey"]): void {
  const eph = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const kek = concatKdf(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), "ECDH-ES+A256KW", 256);
  const cek = randomBytes(32);
  const w = createCipheriv("id-aes256-wrap", kek, Buffer.from("a6a6a6a6a6a6a6a6", "hex"));
  Buffer.concat([w.update(cek), w.final()]);
  eph.publicKey.export({ format: "jwk" });
  const g = createCipheriv("aes-256-gcm", cek, randomBytes(12));
  Buffer.concat([g.update(randomBytes(32)), g.final()]);
  g.getAuthTag();
}

/**
 * Times each raw operation of one handshake (ms per handshake) with a SoftHSM2 token in `dir`;
 * `round` distinguishes repeated calls (fresh key labels), each timing `n` runs per operation.
 */
export async function rawCrypto(dir: string, round = 0, n = 80): Promise<Record<string, number>> {
  useSoftHsm({ tokenDir: join(dir, "raw-tokens"), confPath: join(dir, "raw-softhsm2.conf") });
  ensureSoftHsmToken(SOFTHSM2_MODULE, "raw", "1234");
  const token = Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: "raw", pin: "1234" });
  try {
    const ec = token.generateEcKeyPair(`raw-sign-${round}`);
    const kek = token.generateAesKey(`raw-kek-${round}`);
    const iv = token.random(12);
    const aad = Buffer.from("ci-data-key|default/model/bench|v1");
    const wrapped = token.gcmEncrypt(kek, iv, aad, randomBytes(32));
    const tee = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const teeJwk = tee.publicKey.export({ format: "jwk" });
    // Decoding the point validates it (on the curve, coordinates in the field): all P-384 needs.
    const teeSpki = tee.publicKey.export({ type: "spki", format: "der" });
    const vek = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const report = randomBytes(0x2a0);
    const reportSig = sign("sha384", report, { key: vek.privateKey, dsaEncoding: "ieee-p1363" });
    const tokenInput = randomBytes(900);
    const jwe = encryptToTeeKey(pointFromJwk(teeJwk, "tee"), randomBytes(32));
    // TLS 1.3 as negotiated with the broker's listener: X25519 key exchange, the server's P-384 key.
    const listener = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const transcript = randomBytes(130);
    const certVerify = sign("sha384", transcript, { key: listener.privateKey, dsaEncoding: "der" });
    const peer = generateKeyPairSync("x25519");
    return {
      client_keygen: await timeOp(n, () => generateKeyPairSync("ec", { namedCurve: "P-384" })),
      tls_x25519_both_sides:
        2 *
        (await timeOp(n, () =>
          diffieHellman({ privateKey: generateKeyPairSync("x25519").privateKey, publicKey: peer.publicKey }),
        )),
      tls_server_signature: await timeOp(n, () =>
        sign("sha384", transcript, { key: listener.privateKey, dsaEncoding: "der" }),
      ),
      tls_client_verify_x2:
        2 *
        (await timeOp(n, () =>
          verify("sha384", transcript, { key: listener.publicKey, dsaEncoding: "der" }, certVerify),
        )),
      report_sign: await timeOp(n, () => sign("sha384", report, { key: vek.privateKey, dsaEncoding: "ieee-p1363" })),
      report_verify: await timeOp(n, () =>
        verify("sha384", report, { key: vek.publicKey, dsaEncoding: "ieee-p1363" }, reportSig),
      ),
      tee_key_check: await timeOp(n, () => createPublicKey({ key: teeSpki, format: "der", type: "spki" })),
      hsm_sign_x2: 2 * (await timeOp(n, () => token.signEs384(ec.privateKey, tokenInput))),
      hsm_unwrap: await timeOp(2 * n, () => token.gcmDecrypt(kek, iv, aad, wrapped)),
      jwe_encrypt: await timeOp(n, () => rawJweEncrypt(tee.publicKey)),
      jwe_decrypt: await timeOp(n, () => decryptFromTeeKey(jwe, tee.privateKey)),
    };
  } finally {
    token.close();
  }
}
