/**
 * The subject fields every certificate of a PKI shares (the common name is set per certificate).
 * A leaf type with no imports, so the stack-config reader and the components both build on it.
 */
export interface Subject {
  /** Organization (O). At most 64 characters. */
  organization: string;
  /** Organizational unit (OU). At most 64 characters. */
  organizationalUnit?: string;
  /** Two-letter ISO 3166 country code in capitals (C), e.g. "DE". */
  country?: string;
  /** State or province (ST). At most 64 characters. */
  province?: string;
  /** Locality (L). At most 64 characters. */
  locality?: string;
}
