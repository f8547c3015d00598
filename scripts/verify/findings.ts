/**
 * Deployed versus the stack, one finding per problem, each with the one command that repairs it.
 * The repairs touch only what is wrong:
 * - a stopped service container: `docker start` (not `up --refresh`, which the docker provider
 *   turns into a replacement of a stopped container: docs/OPERATIONS.md);
 * - a service running unhealthy while its files are valid: `docker restart`;
 * - identity files that differ from the stack or would not load: `up --target-replace` of the
 *   delivery container, which writes the stack's files into the volume again (the running service
 *   keeps serving meanwhile and picks the files up without a restart);
 * - a Docker object the state still lists but Docker no longer has: `refresh --target` (the provider
 *   finds it gone and the state drops it), then `up --target` (creates it again). `up --refresh`
 *   would refresh the whole stack: Pulumi does not apply --target to the refresh of an up
 *   (pulumi/pulumi#4174).
 */

import { createHash } from "node:crypto";
import type { ContainerFacts, FileFacts } from "./docker.ts";
import { shellLine } from "./shell.ts";
import type { ServiceInStack } from "./stack.ts";

export interface Finding {
  service: string;
  problem: string;
  /** A shell command line, to print and, with --repair, to run. */
  repair: string;
}

export interface Observed {
  container: ContainerFacts;
  /** The published server's front, when the stack declares one. */
  front?: ContainerFacts;
  delivery: ContainerFacts;
  volume: boolean;
  files: FileFacts | undefined;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export function pulumi(stack: string, ...args: string[]): string {
  return shellLine(["scripts/pulumi.sh", ...args, "--stack", stack, "--yes"]);
}

/** Refresh the listed URNs (dropping what Docker no longer has), then create them again. */
export function recreate(stack: string, urns: string[]): string {
  const targets = urns.flatMap((urn) => ["--target", urn]);
  return `${pulumi(stack, "refresh", ...targets)} && ${pulumi(stack, "up", ...targets)}`;
}

/** What is wrong with the files, or undefined when they match the stack and would load. */
function filesProblem(service: ServiceInStack, files: FileFacts): string | undefined {
  const where = `identity volume ${service.volume.name}`;
  if (!files.valid)
    return `${where}: the files would not load at a restart (${files.reason}): ${files.message}`;
  const expected = service.identity;
  if (!expected) return undefined;
  const differences = [
    files.serialNumber !== expected.serialNumber &&
      `tls.crt serial ${files.serialNumber}, the stack says ${expected.serialNumber}`,
    files.fingerprint256 !== expected.fingerprintSha256 && "tls.crt fingerprint differs from the stack's",
    files.certSha256 !== sha256(expected.chainPem) && "tls.crt is not the stack's certificate chain",
    files.caSha256 !== sha256(expected.caBundlePem) && "ca.crt is not the stack's CA bundle",
  ].filter((d): d is string => typeof d === "string");
  return differences.length > 0 ? `${where}: ${differences.join("; ")}` : undefined;
}

export function compare(stack: string, service: ServiceInStack, observed: Observed): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string, repair: string) => findings.push({ service: service.name, problem, repair });
  const { container, delivery } = observed;

  if (!observed.volume) {
    add(
      `identity volume ${service.volume.name} does not exist`,
      recreate(stack, [service.volume.urn, service.delivery.urn, service.container.urn]),
    );
    return findings;
  }
  if (!delivery.exists) {
    add(
      `delivery container ${service.delivery.name} does not exist (the files stay in the volume; a rotation needs it)`,
      recreate(stack, [service.delivery.urn]),
    );
  }
  const files = observed.files && filesProblem(service, observed.files);
  // Without a delivery container, its recreation writes the files again.
  const filesRepair = delivery.exists
    ? pulumi(stack, "up", "--target-replace", service.delivery.urn)
    : recreate(stack, [service.delivery.urn]);
  if (files && delivery.exists) add(files, filesRepair);
  else if (files) add(`${files} (repaired by recreating the delivery container)`, filesRepair);
  if (!container.exists) {
    add(
      `service container ${service.container.name} does not exist`,
      recreate(stack, [service.container.urn]),
    );
  } else if (container.status === "restarting") {
    add(
      `service container ${service.container.name} is restarting: it exits at start (exit code ${container.exitCode}; see docker logs ${service.container.name})`,
      files ? filesRepair : shellLine(["docker", "restart", service.container.name]),
    );
  } else if (container.status !== "running") {
    add(
      `service container ${service.container.name} is ${container.status} (exit code ${container.exitCode})`,
      shellLine(["docker", "start", service.container.name]),
    );
  } else if (container.health !== undefined && container.health !== "healthy") {
    add(
      `service container ${service.container.name} is running but ${container.health} (see docker logs ${service.container.name})`,
      files ? filesRepair : shellLine(["docker", "restart", service.container.name]),
    );
  }
  if (service.front && observed.front) frontFindings(stack, service.front, observed.front, add);
  return findings;
}

/** The front owns the published port: gone, stopped or unhealthy, the host cannot reach the server. */
function frontFindings(
  stack: string,
  front: NonNullable<ServiceInStack["front"]>,
  facts: ContainerFacts,
  add: (problem: string, repair: string) => void,
): void {
  const what = `front container ${front.name} (the published port)`;
  if (!facts.exists) add(`${what} does not exist`, recreate(stack, [front.urn]));
  else if (facts.status !== "running")
    add(
      `${what} is ${facts.status} (exit code ${facts.exitCode})`,
      shellLine(["docker", "start", front.name]),
    );
  else if (facts.health !== undefined && facts.health !== "healthy")
    add(
      `${what} is running but ${facts.health} (see docker logs ${front.name})`,
      shellLine(["docker", "restart", front.name]),
    );
}
