/**
 * The rules a value must follow, shared by the components (which name the component and the arg)
 * and the stack-config reader (which names the config key and the stack file). Each check returns
 * what is wrong with the value, quoting it, or undefined when it is fine; callers add the "where".
 */
import { isIP } from "node:net";
import type { Subject } from "./subject.ts";

/** Child names a PKI uses for its CA (`<pki>-root-key`, ...): identities may not take them. */
export const RESERVED_NAMES = ["root", "intermediate"] as const;

// A DNS label: it becomes a container alias, a DNS SAN and a SPIFFE path segment.
const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// SPIFFE trust domain: lowercase letters, digits, dots, dashes and underscores.
const TRUST_DOMAIN_PATTERN = /^[a-z0-9._-]{1,255}$/;
// One DNS label of a host name (any case; a DNS SAN is compared case-insensitively).
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** X.520 upper bound for O, OU, L and ST (ub-organization-name etc.). */
const SUBJECT_FIELD_MAX = 64;
const HOURS_IN_YEAR = 8766;
/** A validity above 100 years is surely a typo. */
export const MAX_VALIDITY_HOURS = 100 * HOURS_IN_YEAR;

const quote = (value: unknown): string => JSON.stringify(value);

/** A workload name: a DNS label, not one the CA reserves. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `${quote(value)} is not a string`;
  if ((RESERVED_NAMES as readonly string[]).includes(value)) {
    return `${quote(value)} is reserved for the CA's own certificates; choose another name`;
  }
  if (!NAME_PATTERN.test(value)) {
    return `${quote(value)} is not a valid name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit: it becomes a DNS name)`;
  }
  return undefined;
}

export function trustDomainProblem(value: unknown): string | undefined {
  if (typeof value === "string" && TRUST_DOMAIN_PATTERN.test(value)) return undefined;
  return `${quote(value)} is not a SPIFFE trust domain (lowercase letters, digits, ".", "-", "_")`;
}

/** A DNS SAN: a host name, optionally with one leading wildcard label ("*.example.internal"). */
export function dnsNameProblem(value: unknown): string | undefined {
  if (typeof value === "string" && value.length <= 253) {
    const labels = value.startsWith("*.") ? value.slice(2).split(".") : value.split(".");
    if (labels.every((label) => DNS_LABEL.test(label))) return undefined;
  }
  return `${quote(value)} is not a DNS name (labels of letters, digits and "-", separated by ".")`;
}

export function ipAddressProblem(value: unknown): string | undefined {
  if (typeof value === "string" && isIP(value) !== 0) return undefined;
  return `${quote(value)} is not an IPv4 or IPv6 address`;
}

/** A validity in whole hours: at least one hour, at most 100 years. */
export function hoursProblem(value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    return `${quote(value)} is not a whole number`;
  if (value < 1 || value > MAX_VALIDITY_HOURS) {
    return `${value} is out of range; it must be between 1 and ${MAX_VALIDITY_HOURS}`;
  }
  return undefined;
}

export function earlyRenewalProblem(value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    return `${quote(value)} is not a whole number`;
  if (value < 0) return `${value} is out of range; it must be at least 0`;
  return undefined;
}

export function countryProblem(value: unknown): string | undefined {
  if (typeof value === "string" && /^[A-Z]{2}$/.test(value)) return undefined;
  return `${quote(value)} is not a two-letter ISO 3166 code in capitals (e.g. "DE")`;
}

export function subjectFieldProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `${quote(value)} is not a string`;
  if (value.length > SUBJECT_FIELD_MAX) {
    return `is ${value.length} characters long; X.509 allows at most ${SUBJECT_FIELD_MAX}`;
  }
  return undefined;
}

/** Every problem of a subject, keyed by field ("organization", "country", ...). */
export function subjectProblems(subject: Subject): Array<[keyof Subject, string]> {
  const problems: Array<[keyof Subject, string]> = [];
  if (typeof subject.organization !== "string" || subject.organization.trim() === "") {
    problems.push(["organization", `${quote(subject.organization)} is empty; name the organization`]);
  }
  for (const field of ["organization", "organizationalUnit", "province", "locality"] as const) {
    const value = subject[field];
    if (value === undefined || value === "") continue;
    const problem = subjectFieldProblem(value);
    if (problem) problems.push([field, problem]);
  }
  if (subject.country !== undefined && subject.country !== "") {
    const problem = countryProblem(subject.country);
    if (problem) problems.push(["country", problem]);
  }
  return problems;
}

/** The names listed more than once. */
export function duplicatesOf(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) duplicates.add(value);
    seen.add(value);
  }
  return [...duplicates];
}
