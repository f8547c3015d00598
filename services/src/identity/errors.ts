/**
 * Why an identity (certificate chain, private key, CA bundle) cannot be used. Each kind has one
 * message that names the file (by its variable and path) and says what to do. Messages never carry
 * file contents.
 */

export type IdentityErrorKind =
  | "missing"
  | "unreadable"
  | "not_pem"
  | "bad_certificate"
  | "bad_key"
  | "key_mismatch"
  | "empty_ca_bundle"
  | "weak_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_purpose"
  | "not_chained"
  | "rejected_by_openssl";

export class IdentityError extends Error {
  override name = "IdentityError";
  readonly kind: IdentityErrorKind;

  constructor(kind: IdentityErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Which file a message is about: the variable that names it and its path. */
export interface FileRef {
  variable: string;
  path: string;
}

export function describeFile(file: FileRef): string {
  return `${file.variable} (${file.path})`;
}
