/**
 * Minimal PEM handling: split a file into its labelled blocks. Certificates and keys are parsed by
 * Node (X509Certificate, createPrivateKey); this only finds and labels the blocks.
 */

export interface PemBlock {
  label: string;
  /** The whole block, BEGIN and END lines included, newline-terminated. */
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function pemBlocks(contents: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of contents.matchAll(BLOCK)) {
    blocks.push({ label: match[1]!, text: `${match[0]}\n` });
  }
  return blocks;
}

export function looksLikePem(contents: string): boolean {
  return contents.includes("-----BEGIN ");
}

export const CERTIFICATE_LABELS = new Set(["CERTIFICATE"]);
export const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);
export const ENCRYPTED_KEY_LABELS = new Set(["ENCRYPTED PRIVATE KEY"]);
