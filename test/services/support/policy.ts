/**
 * The server's access policy file in tests: write it the way a delivery does (write, then rename),
 * wait for the server's next `policy_reload` line, and read the policy state from /readyz.
 */
import { join } from "node:path";
import { POLICY_FILE } from "../../../services/src/contract.ts";
import { replaceFile } from "../../support/pki-fixtures/files.ts";
import type { LogLine, ServiceProcess } from "./service-process.ts";
import { eventually, getStatus } from "./status.ts";

export function policyPath(dir: string): string {
  return join(dir, POLICY_FILE);
}

/** Writes the policy (an object as JSON, a string as it is) by write-then-rename. */
export async function writePolicy(path: string, policy: unknown): Promise<void> {
  await replaceFile(path, typeof policy === "string" ? policy : JSON.stringify(policy));
}

/**
 * Runs `change` and waits for the first `policy_reload` line logged after it began that matches
 * `predicate` (default: any). Lines logged before are never taken for it.
 */
export async function afterPolicyReload(
  server: ServiceProcess,
  change: () => Promise<unknown> | unknown,
  predicate: (line: LogLine) => boolean = () => true,
): Promise<LogLine> {
  const from = server.lines.length;
  await change();
  return server.waitForLine(
    (line) => line.event === "policy_reload" && server.lines.indexOf(line) >= from && predicate(line),
  );
}

export function policyReloadLines(server: ServiceProcess, from = 0): LogLine[] {
  return server.lines.slice(from).filter((line) => line.event === "policy_reload");
}

export interface PolicyStatusBody {
  file: string;
  fileState: "absent" | "valid" | "broken";
  allowListSource: "file" | "env";
  allowedClients: number;
  revokedSerials: number;
  checks: number;
  checkedAt: string | null;
  lastReload: { result: string; trigger: string; reason?: string } | null;
}

export async function policyStatus(statusUrl: string): Promise<PolicyStatusBody> {
  const { body } = await getStatus(statusUrl, "/readyz");
  const parsed = JSON.parse(body) as { policy?: PolicyStatusBody };
  if (!parsed.policy) throw new Error(`/readyz has no policy state: ${body}`);
  return parsed.policy;
}

/** Waits until the server has read the policy file `count` more times (watch events or polls). */
export async function waitForPolicyChecks(statusUrl: string, count: number): Promise<void> {
  const start = (await policyStatus(statusUrl)).checks;
  await eventually(
    () => policyStatus(statusUrl),
    (status) => status.checks >= start + count,
  );
}
