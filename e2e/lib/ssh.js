// ssh-keygen, as the user runs it, is the reference for keys and fingerprints.

import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Generates a key pair without a passphrase; returns the public key line. */
export async function generateKey(file, type, bits) {
  await run("ssh-keygen", ["-q", "-t", type, "-b", String(bits), "-N", "", "-C", "e2e@laptop", "-f", file]);
  return (await readFile(`${file}.pub`, "utf8")).trim();
}

/** What `ssh-keygen -l -E md5` prints after "MD5:" for a public key file. */
export async function md5Fingerprint(publicKeyFile) {
  const { stdout } = await run("ssh-keygen", ["-l", "-E", "md5", "-f", publicKeyFile]);
  const m = /\bMD5:((?:[0-9a-f]{2}:){15}[0-9a-f]{2})\b/.exec(stdout);
  if (!m) throw new Error(`no MD5 fingerprint in ssh-keygen output: ${stdout}`);
  return m[1];
}

/**
 * Derives the public key from a private key file with `ssh-keygen -y` (which
 * also proves the file is a usable private key), writes it next to it and
 * returns its MD5 fingerprint.
 */
export async function fingerprintOfPrivateKey(privateKeyFile, publicKeyFile) {
  const { stdout } = await run("ssh-keygen", ["-y", "-f", privateKeyFile]);
  await writeFile(publicKeyFile, stdout);
  return md5Fingerprint(publicKeyFile);
}

/**
 * Distinct ECDSA P-256 public keys in OpenSSH form, made in process (one
 * ssh-keygen run per key would cost seconds for hundreds of keys); the
 * format is checked against ssh-keygen by the cases that use it.
 */
export function ecdsaPublicKeys(count, comment = "e2e@laptop") {
  const sshString = (buf) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    return Buffer.concat([len, buf]);
  };
  return Array.from({ length: count }, () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const { x, y } = publicKey.export({ format: "jwk" });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(x, "base64url"), Buffer.from(y, "base64url")]);
    const blob = Buffer.concat([sshString(Buffer.from("ecdsa-sha2-nistp256")), sshString(Buffer.from("nistp256")), sshString(point)]);
    return `ecdsa-sha2-nistp256 ${blob.toString("base64")} ${comment}`;
  });
}
