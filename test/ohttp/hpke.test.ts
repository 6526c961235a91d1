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
