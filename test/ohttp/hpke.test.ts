import { describe, expect, it } from "vitest";
import {
  deriveHpkeKeyPair,
  describeSuite,
  importHpkePrivateKey,
  setupBaseRecipient,
  setupBaseSender,
} from "../../runtime/ohttp/index.js";
import { hex, toHex } from "./helpers.js";
import { RFC9180_BASE_VECTORS, RFC9180_PLAINTEXT } from "./rfc9180-vectors.js";

const ascii = (s: string) => new TextEncoder().encode(s);

describe.each(RFC9180_BASE_VECTORS)("RFC 9180 appendix $section, $name (base mode)", (v) => {
  const suite = { kemId: v.kemId, kdfId: v.kdfId, aeadId: v.aeadId };

  it("names the suite as the RFC does", () => {
    expect(describeSuite(suite)).toBe(v.name);
  });

  it("DeriveKeyPair(ikmR) and DeserializePrivateKey(skRm) both give pkRm; skEm gives pkEm", async () => {
    const derived = await deriveHpkeKeyPair(v.kemId, hex(v.ikmR));
    const imported = await importHpkePrivateKey(v.kemId, hex(v.skRm));
    const ephemeral = await importHpkePrivateKey(v.kemId, hex(v.skEm));
    expect([toHex(derived.publicKey), toHex(imported.publicKey), toHex(ephemeral.publicKey)]).toEqual([
      v.pkRm,
      v.pkRm,
      v.pkEm,
    ]);
  });

  it("SetupBaseS with ikmE gives enc, every listed ciphertext and export; SetupBaseR opens them all", async () => {
    const sender = await setupBaseSender(suite, hex(v.pkRm), hex(v.info), { ikm: hex(v.ikmE) });
    expect(toHex(sender.enc)).toBe(v.enc);
    const last = v.encryptions[v.encryptions.length - 1]![0];
    const sealed: Uint8Array[] = [];
    // Sequence numbers the RFC does not list are sealed too, so the context reaches 255 and 256.
    for (let seq = 0; seq <= last; seq++) sealed.push(await sender.seal(hex(RFC9180_PLAINTEXT), ascii(`Count-${seq}`)));
    expect(v.encryptions.map(([seq, aad]) => [seq, aad, toHex(sealed[seq]!)])).toEqual(v.encryptions);

    const recipientKey = await importHpkePrivateKey(v.kemId, hex(v.skRm));
    const recipient = await setupBaseRecipient(suite, recipientKey.privateKey, sender.enc, hex(v.info));
    const opened: string[] = [];
    for (let seq = 0; seq <= last; seq++) opened.push(toHex(await recipient.open(sealed[seq]!, ascii(`Count-${seq}`))));
    expect(new Set(opened)).toEqual(new Set([RFC9180_PLAINTEXT]));

    for (const [context, length, value] of v.exports) {
      expect([
        toHex(await sender.export(hex(context), length)),
        toHex(await recipient.export(hex(context), length)),
      ]).toEqual([value, value]);
    }
  });

  it("a raw ephemeral secret key (skEm) is the same injection as ikmE", async () => {
    const sender = await setupBaseSender(suite, hex(v.pkRm), hex(v.info), { secretKey: hex(v.skEm) });
    const [seq, aad, ct] = v.encryptions[0]!;
    expect([toHex(sender.enc), seq, toHex(await sender.seal(hex(RFC9180_PLAINTEXT), hex(aad)))]).toEqual([
      v.enc,
      0,
      ct,
    ]);
  });
});

describe("native X25519 HPKE (node:crypto) against @hpke/core, for the suites RFC 9180 has no vector for", () => {
  const X25519 = 0x20;
  it.each([
    [1, 2],
    [2, 2],
    [3, 2],
    [2, 1],
    [3, 3],
  ])("KDF 0x%i with AEAD 0x%i: same enc, ciphertexts and exports; each opens the other's", async (kdfId, aeadId) => {
    const suite = { kemId: X25519, kdfId, aeadId };
    const v = RFC9180_BASE_VECTORS[0]!;
    const info = ascii("cross-check");
    const native = await setupBaseSender(suite, hex(v.pkRm), info, { ikm: hex(v.ikmE) });
    const library = await setupBaseSender(suite, hex(v.pkRm), info, { ikm: hex(v.ikmE) }, "library");
    const pt = hex(RFC9180_PLAINTEXT);
    const sealed = [await native.seal(pt, ascii("a")), await native.seal(pt)];
    const expected = [await library.seal(pt, ascii("a")), await library.seal(pt)];
    expect([toHex(native.enc), ...sealed.map(toHex)]).toEqual([toHex(library.enc), ...expected.map(toHex)]);
    expect(toHex(await native.export(ascii("ctx"), 40))).toBe(toHex(await library.export(ascii("ctx"), 40)));
    const key = await importHpkePrivateKey(X25519, hex(v.skRm));
    const libR = await setupBaseRecipient(suite, key.privateKey, native.enc, info, "library");
    const natR = await setupBaseRecipient(suite, key.privateKey, native.enc, info);
    expect([toHex(await libR.open(sealed[0]!, ascii("a"))), toHex(await natR.open(expected[0]!, ascii("a")))]).toEqual([
      RFC9180_PLAINTEXT,
      RFC9180_PLAINTEXT,
    ]);
  });

  it("refuses a tampered ciphertext and keeps the sequence number (the next genuine message still opens)", async () => {
    const suite = { kemId: X25519, kdfId: 1, aeadId: 2 };
    const v = RFC9180_BASE_VECTORS[0]!;
    const sender = await setupBaseSender(suite, hex(v.pkRm), new Uint8Array(0));
    const ct = await sender.seal(ascii("hello"));
    const key = await importHpkePrivateKey(X25519, hex(v.skRm));
    const r = await setupBaseRecipient(suite, key.privateKey, sender.enc, new Uint8Array(0));
    const bad = Uint8Array.from(ct);
    bad[0]! ^= 1;
    await expect(r.open(bad)).rejects.toThrow();
    expect(new TextDecoder().decode(await r.open(ct))).toBe("hello");
  });

  it("refuses a low-order public key (all-zero X25519 output, RFC 9180 section 7.1.4)", async () => {
    const suite = { kemId: X25519, kdfId: 1, aeadId: 2 };
    await expect(setupBaseSender(suite, new Uint8Array(32), new Uint8Array(0))).rejects.toThrow();
  });
});
