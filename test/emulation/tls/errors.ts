/**
 * Errors in the shape the real tls plugin (bridged Terraform Plugin Framework provider) reports.
 *
 * Check (validation) failures reach the user as
 *   `<type> resource '<name>' has a problem: <Summary>. <Detail>. Examine values at '<name>.<property>'.`
 * and Create failures as the diagnostic's `<Summary>: <Detail>`. Tests match the provider's own
 * summary and detail text, which is copied from the upstream Go source.
 */

export interface CheckFailure {
  /** Pulumi (camelCase) property path, e.g. `allowedUses[0]`. */
  property: string;
  summary: string;
  detail: string;
}

export class ProviderCheckError extends Error {
  readonly failures: readonly CheckFailure[];
  constructor(type: string, name: string, failures: readonly CheckFailure[]) {
    super(
      failures
        .map(
          (f) =>
            `${type} resource '${name}' has a problem: ${f.summary}. ${f.detail}.` +
            (f.property ? ` Examine values at '${name}.${f.property}'.` : ""),
        )
        .join("\n"),
    );
    this.name = "ProviderCheckError";
    this.failures = failures;
  }
}

export class ProviderDiagnosticError extends Error {
  readonly summary: string;
  readonly detail: string;
  constructor(summary: string, detail: string) {
    super(`${summary}: ${detail}`);
    this.name = "ProviderDiagnosticError";
    this.summary = summary;
    this.detail = detail;
  }
}

/** Go's `%q` for the plain strings the validators print (ASCII printable; others escaped). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
