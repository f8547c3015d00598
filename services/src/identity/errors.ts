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
  /** Each problem on its own (just this error, unless several were found at once). */
  readonly problems: readonly IdentityError[];

  constructor(kind: IdentityErrorKind, message: string, problems?: readonly IdentityError[]) {
    super(message);
    this.kind = kind;
    this.problems = problems ?? [this];
  }
}

/**
 * One error for problems found together (cert, key and CA all missing), so that a start reports
 * every one of them; its kind is the first problem's, its message all of them.
 */
export function combineIdentityErrors(errors: readonly IdentityError[]): IdentityError {
  if (errors.length === 1) return errors[0]!;
  const problems = errors.flatMap((error) => error.problems);
  return new IdentityError(
    problems[0]!.kind,
    problems.map((problem) => problem.message).join("; "),
    problems,
  );
}

/** Which file a message is about: the variable that names it and its path. */
export interface FileRef {
  variable: string;
  path: string;
}

export function describeFile(file: FileRef): string {
  return `${file.variable} (${file.path})`;
}
