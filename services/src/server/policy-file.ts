/**
 * The server's policy file (MTLS_POLICY_FILE): JSON
 * `{"allowedClients": [...], "revokedSerials": [...], "tlsPolicy": "modern"}`, every key optional. Reading it gives either "absent" or validated contents; anything else throws a
 * PolicyFileError whose message names the file and the problem (the key, the index, the value), so
 * one log line tells an operator what to fix.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ENV, TLS_POLICIES, type TlsPolicy } from "../contract.ts";
import { parseSerial } from "./serial.ts";

export const POLICY_FILE_KEYS = ["allowedClients", "revokedSerials", "tlsPolicy"] as const;

export type PolicyFileProblem =
  | "missing"
  | "unreadable"
  | "not_json"
  | "not_an_object"
  | "unknown_key"
  | "wrong_type"
  | "bad_client"
  | "bad_serial"
  | "bad_tls_policy"
  /** Valid JSON, but OpenSSL refused the TLS settings it asks for (the server's setSecureContext). */
  | "rejected_by_openssl";

export class PolicyFileError extends Error {
  override name = "PolicyFileError";
  readonly kind: PolicyFileProblem;
  constructor(kind: PolicyFileProblem, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface FilePolicy {
  /** Absent from the file: the file does not set an allow-list (MTLS_ALLOWED_CLIENTS applies). */
  allowedClients: string[] | undefined;
  /** Canonical serials (serial.ts), without duplicates. */
  revokedSerials: string[];
  /** Absent from the file: MTLS_TLS_POLICY applies. */
  tlsPolicy: TlsPolicy | undefined;
}

export type PolicyFileRead =
  | { state: "absent" }
  | { state: "valid"; policy: FilePolicy; digest: string }
  /** Read, but not a valid policy: the digest lets a caller report the same broken content once. */
  | { state: "broken"; error: PolicyFileError; digest: string };

/** Reads and validates the file. A file that does not exist is "absent", not an error. */
export async function readPolicyFile(path: string): Promise<PolicyFileRead> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { state: "absent" };
    const why = code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : code;
    throw new PolicyFileError("unreadable", `${where(path)} cannot be read: ${why}`);
  }
  const digest = createHash("sha256").update(text).digest("hex");
  try {
    return { state: "valid", policy: parsePolicyText(text, path), digest };
  } catch (error) {
    if (error instanceof PolicyFileError) return { state: "broken", error, digest };
    throw error;
  }
}

function where(path: string): string {
  return `${ENV.policyFile} (${path})`;
}

/** Validates the text of a policy file; throws PolicyFileError naming the first problem. */
export function parsePolicyText(text: string, path: string): FilePolicy {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PolicyFileError("not_json", `${where(path)} is not JSON: ${(error as Error).message}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new PolicyFileError(
      "not_an_object",
      `${where(path)} must hold a JSON object with ${POLICY_FILE_KEYS.join(" and/or ")}`,
    );
  }
  const record = data as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(POLICY_FILE_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new PolicyFileError(
      "unknown_key",
      `${where(path)} has unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => JSON.stringify(key)).join(", ")}: ` +
        `expected only ${POLICY_FILE_KEYS.join(", ")}`,
    );
  }
  const allowedClients =
    record.allowedClients === undefined
      ? undefined
      : stringArray(record.allowedClients, "allowedClients", path).map((entry, index) => {
          const trimmed = entry.trim();
          if (trimmed === "") {
            throw new PolicyFileError(
              "bad_client",
              `${where(path)}: allowedClients[${index}] is empty: expected a common name or a URI SAN`,
            );
          }
          return trimmed;
        });
  const revoked = new Set<string>();
  if (record.revokedSerials !== undefined) {
    stringArray(record.revokedSerials, "revokedSerials", path).forEach((entry, index) => {
      const parsed = parseSerial(entry);
      if (!parsed.ok) {
        throw new PolicyFileError(
          "bad_serial",
          `${where(path)}: revokedSerials[${index}] ${JSON.stringify(entry)} ${parsed.problem}`,
        );
      }
      revoked.add(parsed.serial);
    });
  }
  let tlsPolicy: TlsPolicy | undefined;
  if (record.tlsPolicy !== undefined) {
    if (!(TLS_POLICIES as readonly unknown[]).includes(record.tlsPolicy)) {
      throw new PolicyFileError(
        "bad_tls_policy",
        `${where(path)}: tlsPolicy ${JSON.stringify(record.tlsPolicy)} is not a TLS policy: expected ${TLS_POLICIES.join(" or ")}`,
      );
    }
    tlsPolicy = record.tlsPolicy as TlsPolicy;
  }
  return { allowedClients, revokedSerials: [...revoked], tlsPolicy };
}

function stringArray(value: unknown, key: string, path: string): string[] {
  if (!Array.isArray(value)) {
    throw new PolicyFileError(
      "wrong_type",
      `${where(path)}: ${key} must be an array of strings, not ${describe(value)}`,
    );
  }
  value.forEach((item, index) => {
    if (typeof item !== "string") {
      throw new PolicyFileError(
        "wrong_type",
        `${where(path)}: ${key}[${index}] must be a string, not ${describe(item)}` +
          (key === "revokedSerials" && typeof item === "number"
            ? " (write serials as hex strings: a JSON number loses digits)"
            : ""),
      );
    }
  });
  return value as string[];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}
