/**
 * Upgrading a stack, as a user does it: the whole program of the last release (its index.ts,
 * components/, services/ and demo app, images built from them as they were) deploys each default
 * stack on a real Docker engine; a caller calls the server throughout, one new TLS connection per
 * call (from the host for a published server, dev's and staging's, from a container on the stack's
 * network for prod's); then today's program runs on the same (emulated) state. The test asserts the steps
 * the upgrade really takes and reports every failed call. Then a new version of the services
 * alone (one comment added to their code: a new image) is deployed on the published dev stack:
 * every service container is replaced, and no call fails.
 *
 * The sidecar stack's upgrade has its own test (sidecar-upgrade.test.ts); a swarm stack rolls its
 * services start-first (swarm.test.ts).
 *
 * Needs the git history (the release's commit) and a Docker engine; under CI=true either missing fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Caller, type CallOutcome, startCaller } from "../e2e/caller.ts";
import { type NetworkCaller, startNetworkCaller } from "../e2e/network-caller.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { eventually } from "../support/eventually.ts";
import { freePort } from "../support/free-port.ts";
import { note } from "../support/run-notes.ts";
import { stackConfig } from "../support/stack-files.ts";
import { type Deployment, deploy, newStack, type Stack, wholeProgram } from "./deploy.ts";
import { missingRelease, type ProgramTree, releaseTree, workingTreeWithNewServices } from "./program-tree.ts";

/** The last release: what existing stacks run today. */
const RELEASE = "713e1c9";

interface Outputs {
  serverUrl: string;
  networkName: string;
  clientCredentials: Record<string, { certPem: string; keyPem: string; caPem: string }>;
}

/** What a caller saw. */
interface Calls {
  total: number;
  failures: string[];
  /** Runs of consecutive failed calls: 1 for one gap, however long. */
  gaps: number;
}

function summary(outcomes: { ok: boolean; error: string }[]): Calls {
  const failures = outcomes.filter((o) => !o.ok).map((o) => o.error);
  const gaps = outcomes.filter((o, i) => !o.ok && (i === 0 || outcomes[i - 1]!.ok)).length;
  return { total: outcomes.length, failures, gaps };
}

/** A continuous caller of the stack's server, from wherever the stack lets one reach it. */
interface ContinuousCaller {
  /** Resolves once `count` calls have succeeded since this was called. */
  succeeded(count: number): Promise<void>;
  stop(): Promise<Calls>;
}

function hostCaller(url: string, credentials: Outputs["clientCredentials"][string]): ContinuousCaller {
  const caller: Caller = startCaller(url, () => credentials);
  const describe = (o: CallOutcome) => `${new Date(o.at).toISOString()} ${o.failure}`;
  return {
    succeeded: async (count) => {
      const okCount = async () => caller.outcomes.filter((o) => o.ok).length;
      const start = await okCount();
      await eventually(okCount, (n) => n >= start + count, 120_000);
    },
    stop: async () => {
      await caller.stop();
      return summary(caller.outcomes.map((o) => ({ ok: o.ok, error: describe(o) })));
    },
  };
}

async function inNetworkCaller(
  stack: Stack,
  outputs: Outputs,
  serverName: string,
  image: string,
): Promise<ContinuousCaller> {
  const caller: NetworkCaller = await startNetworkCaller({
    image,
    network: outputs.networkName,
    // The certificate's DNS name is the server's alias on the stack network; 8443 its port there.
    url: `https://${serverName}:8443`,
    runId: stack.docker.runId,
    credentials: Object.values(outputs.clientCredentials)[0]!,
  });
  const okCount = async () => (await caller.calls()).filter((c) => c.ok).length;
  return {
    succeeded: async (count) => {
      const start = await okCount();
      await eventually(okCount, (n) => n >= start + count, 120_000);
    },
    stop: async () => {
      const calls = await caller.stop();
      return summary(calls.map((c) => ({ ok: c.ok, error: c.error ?? "" })));
    },
  };
}

/** What a run did other than `same`, as "<op> <name> (<changed inputs>)", sorted. */
function steps(deployment: Deployment): string[] {
  return deployment.run.ops
    .filter((op) => op.op !== "same")
    .map((op) => `${op.op} ${op.name} (${[...(op.changed ?? [])].sort().join(", ")})`)
    .sort();
}

/** The stack's client names, as the program reads them (the project default when the stack sets none). */
function clientNames(stackName: string): string[] {
  const clients = stackConfig(stackName).clients;
  return clients ? (JSON.parse(clients) as string[]) : ["client-a"];
}

async function stackUnderTest(stackName: string, baseImage: string): Promise<Record<string, string>> {
  const { workloads: _none, ...file } = stackConfig(stackName);
  return {
    ...file,
    baseImage,
    ...(file.publishPort ? { publishPort: String(await freePort()) } : {}),
  };
}

/** Deploys `program` (the release's, or today's), with the caller calling throughout; returns what it saw. */
async function deployUnderCalls(
  caller: ContinuousCaller,
  run: () => Promise<Deployment>,
): Promise<{ deployment: Deployment; calls: Calls }> {
  const deployment = await run().catch(async (error: unknown) => {
    await caller.stop();
    throw error;
  });
  // Calls made on what the run left: the new containers, after the old ones are gone.
  await caller.succeeded(5);
  return { deployment, calls: await caller.stop() };
}

const skip = missingRelease(RELEASE) ?? (await dockerSkipReason());

describe.skipIf(skip)(
  `upgrading the default stacks from release ${RELEASE}, a caller calling throughout`,
  () => {
    let release: ProgramTree;
    let baseImage: string;

    beforeAll(async () => {
      baseImage = await ensureBaseImage();
      release = releaseTree(RELEASE);
    });
    afterAll(() => release?.remove());

    /** What today's program changes in a stack the release deployed. */
    const expectedSteps = (stackName: string): string[] => {
      const server = stackConfig(stackName).serverName ?? "mtls-server";
      const published = stackConfig(stackName).publishPort !== undefined;
      const replacedClients = clientNames(stackName).flatMap((name) => [
        `replace ${name} (destroyGraceSeconds, image)`,
        `replace ${name}-delivery (image)`,
      ]);
      return [
        ...(published
          ? [
              // The published port moves to a front of its own, which needs the delivery image.
              `replace ${server} (destroyGraceSeconds, entrypoints, envs, healthcheck, image, labels, memory, memorySwap, mounts, networksAdvanced)`,
              `create ${server}-service ()`,
              "create services-delivery-image ()",
            ]
          : [`replace ${server} (destroyGraceSeconds, image)`]),
        `replace ${server}-delivery (image)`,
        ...replacedClients,
        "update services-image (build)",
      ].sort();
    };

    it.each(["dev", "staging", "prod"])(
      "stack %s: takes the listed steps, keeps the PKI, and reports the calls that failed meanwhile",
      async (stackName) => {
        const config = await stackUnderTest(stackName, baseImage);
        const serverName = stackConfig(stackName).serverName ?? "mtls-server";
        const published = config.publishPort !== undefined;
        const stack = newStack();
        // The release resolves nothing against the working directory; its program runs from its own tree.
        const old = await deploy(stackName, config, { stack, program: release.program });
        let last: Deployment = old;
        try {
          const outputs = old.run.exports as unknown as Outputs;
          const caller = published
            ? hostCaller(outputs.serverUrl, Object.values(outputs.clientCredentials)[0]!)
            : await inNetworkCaller(stack, outputs, serverName, baseImage);
          await caller.succeeded(3);
          const { deployment, calls } = await deployUnderCalls(caller, () =>
            deploy(stackName, config, { stack, program: wholeProgram }),
          );
          last = deployment;
          note(
            `upgrade from ${RELEASE}, stack ${stackName}${published ? " (published)" : ""}: ` +
              `${calls.failures.length} of ${calls.total} calls failed${calls.failures.length ? `: ${calls.failures.join("; ")}` : ""}`,
          );
          console.log(`upgrade steps (${stackName}):\n${steps(deployment).join("\n")}`);
          expect(steps(deployment)).toEqual(expectedSteps(stackName));
          // No certificate, key or CA is touched: the identities carry over.
          expect(deployment.run.ops.filter((op) => op.type.startsWith("tls:") && op.op !== "same")).toEqual(
            [],
          );
          // Unpublished, every service container is replaced create-first: no call fails. Published,
          // the port moves once from the release's server container to the front (README, "Upgrading").
          if (!published) expect(calls.failures).toEqual([]);
          else {
            // One gap, of connections refused or cut: never an HTTP error from a half-started server.
            expect(calls.gaps).toBeLessThanOrEqual(1);
            for (const failure of calls.failures) {
              expect(failure).toMatch(
                /ECONNREFUSED|ECONNRESET|socket hang up|socket disconnected before secure TLS connection/,
              );
            }
          }
        } finally {
          await last.destroy();
        }
      },
    );
  },
);

describe.skipIf(skip)("a new version of the services on the published dev stack", () => {
  let changed: ProgramTree;
  let stack: Stack;
  let config: Record<string, string>;
  let before: Deployment | undefined;
  let after: Deployment | undefined;

  beforeAll(async () => {
    changed = workingTreeWithNewServices("a new version of the services");
    stack = newStack();
    config = await stackUnderTest("dev", await ensureBaseImage());
    before = await deploy("dev", config, { stack, program: wholeProgram });
  });
  afterAll(async () => {
    try {
      await (after ?? before)?.destroy();
    } finally {
      changed?.remove();
    }
  });

  it("replaces the server and client containers create-first behind the front, which stays, and no call fails", async () => {
    const outputs = before!.run.exports as unknown as Outputs;
    const caller = hostCaller(outputs.serverUrl, outputs.clientCredentials["client-a"]!);
    await caller.succeeded(3);
    const { deployment, calls } = await deployUnderCalls(caller, () =>
      deploy("dev", config, { stack, program: changed.program }),
    );
    after = deployment;
    note(
      `new services image, stack dev (published): ${calls.failures.length} of ${calls.total} calls failed`,
    );
    expect(steps(deployment)).toEqual(
      [
        "replace mtls-server-service (image)",
        "replace mtls-server-delivery (image)",
        "replace client-a (image)",
        "replace client-a-delivery (image)",
        "update services-image (build)",
        // Rebuilt from the changed context with the same content: the front that runs it stays.
        "update services-delivery-image (build)",
      ].sort(),
    );
    expect(calls.failures).toEqual([]);
  });
});
