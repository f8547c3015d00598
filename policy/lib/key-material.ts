/**
 * Recognising private key material in a known value: a PEM private key block of any flavour
 * (PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`,
 * `OPENSSH PRIVATE KEY`), also when base64-encoded as a whole (a docker.Secret's `data`, an
 * environment variable carrying a file).
 */
import { stringsIn } from "./values";

const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** base64 of "-----BEGIN" at the start of an encoded PEM. */
const BASE64_PEM_START = /LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g;

export function isPrivateKeyText(text: string): boolean {
  if (PEM_PRIVATE_KEY.test(text)) return true;
  for (const match of text.matchAll(BASE64_PEM_START)) {
    if (PEM_PRIVATE_KEY.test(Buffer.from(match[0], "base64").toString("latin1"))) return true;
  }
  return false;
}

/** Whether any known string inside the value holds a private key. */
export function containsPrivateKey(value: unknown): boolean {
  return stringsIn(value).some(isPrivateKeyText);
}
