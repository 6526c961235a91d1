/**
 * Encrypts values in the format of Pulumi's passphrase secrets provider, so committed stack files
 * carry `secure:` values and never plain text. Usage:
 *
 *   PULUMI_CONFIG_PASSPHRASE=... npx tsx scripts/pulumi-secret.ts salt            # new encryptionsalt
 *   PULUMI_CONFIG_PASSPHRASE=... npx tsx scripts/pulumi-secret.ts encrypt SALT VALUE
 *
 * Format (Pulumi passphrase provider): key = PBKDF2-HMAC-SHA256(passphrase, salt, 1e6 rounds, 32 B);
 * a value is `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext||tag>`; the salt state is
 * `v1:<base64 8-byte salt>:<encryption of "pulumi">`. Teams normally use `pulumi config set --secret`.
 */
import { createCipheriv, pbkdf2Sync, randomBytes } from "node:crypto";

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase, salt, 1_000_000, 32, "sha256");
}

function encrypt(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString("base64")}:${body.toString("base64")}`;
}

function main(argv: string[]): void {
  const passphrase = process.env["PULUMI_CONFIG_PASSPHRASE"];
  if (passphrase === undefined) throw new Error("set PULUMI_CONFIG_PASSPHRASE");
  const [command, saltState, value] = argv;
  if (command === "salt") {
    const salt = randomBytes(8);
    process.stdout.write(`v1:${salt.toString("base64")}:${encrypt(deriveKey(passphrase, salt), "pulumi")}\n`);
  } else if (command === "encrypt" && saltState !== undefined && value !== undefined) {
    const salt = Buffer.from(saltState.split(":")[1] ?? "", "base64");
    process.stdout.write(`${encrypt(deriveKey(passphrase, salt), value)}\n`);
  } else {
    throw new Error("usage: pulumi-secret.ts salt | encrypt SALT VALUE");
  }
}

main(process.argv.slice(2));
