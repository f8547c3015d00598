/**
 * Runs this project's program (index.ts) under the emulated engine with the emulated tls and
 * docker providers, and reads back what it issued: each identity's certificate chain, key and CA
 * bundle, exactly as the Identity component hands them to the containers.
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import {
  type CreateRequest,
  cleanupRun,
  createDockerProvider,
  type DockerProvider,
  EmulatedEngine,
  IMAGE_TYPE,
  type ProgramRun,
  runProgram,
  TlsProvider,
} from "../../emulation/index.ts";
import type { TlsIdentity } from "../support/tls-handshake.ts";

export const PROJECT = "mtls-pki";

export interface Deployment {
  engine: EmulatedEngine;
  run: ProgramRun;
  /** The identity of a workload by name, from the Identity component's registered outputs. */
  identity(name: string): TlsIdentity & { leaf: string };
  /** `pulumi destroy`, then removal of anything the Docker emulation labelled for this run (if it reached Docker). */
  destroy(): Promise<void>;
}

export interface Stack {
  engine: EmulatedEngine;
  docker: DockerProvider;
  /**
   * Whether a run of this stack reached the Docker engine. PKI-only runs, runs stopped by the
   * config check and previews never do, so they need no engine, not even for the cleanup.
   */
  readonly reachedDocker: boolean;
}

/** Would this request make the docker emulation talk to the engine? (Under preview only an image with buildOnPreview builds.) */
function reachesDocker(req: CreateRequest): boolean {
  return !req.preview || (req.type === IMAGE_TYPE && req.inputs.buildOnPreview === true);
}

export function newStack(): Stack {
  const emulation = createDockerProvider();
  let reached = false;
  // The same provider, noting every call that goes to the Docker engine.
  const docker: DockerProvider = {
    ...emulation,
    create: (req) => {
      reached ||= reachesDocker(req);
      return emulation.create(req);
    },
    update: (req) => {
      reached ||= reachesDocker(req);
      return emulation.update(req);
    },
    delete: (req) => {
      reached = true;
      return emulation.delete(req);
    },
  };
  return {
    engine: new EmulatedEngine([new TlsProvider(), docker]),
    docker,
    get reachedDocker() {
      return reached;
    },
  };
}

type Program = () => Promise<Record<string, unknown>>;

/** The whole program (PKI and containers), as `pulumi up` / `pulumi preview` runs it. */
export const wholeProgram: Program = () => import("../../index.ts");

/** Only the PKI half of the program, for tests of the certificates themselves. */
export const pkiProgram: Program = async () => {
  const { loadConfig, pkiArgs } = await import("../../components/config.ts");
  const { MtlsPki } = await import("../../components/index.ts");
  const config = loadConfig();
  const pki = new MtlsPki("pki", pkiArgs(config));
  const server = pki.issueServer(config.server.name);
  for (const name of config.clients) pki.issueClient(name);
  const { spiffeId, serialNumber, fingerprintSha256, notAfter } = server;
  return {
    caCertificatePem: pki.rootCertPem,
    server: { spiffeId, serialNumber, fingerprintSha256, notAfter },
  };
};

export async function deploy(
  stackName: string,
  config: Record<string, string>,
  options: { stack?: Stack; preview?: boolean; program?: Program } = {},
): Promise<Deployment> {
  const stack = options.stack ?? newStack();
  const { engine } = stack;
  const destroy = async () => {
    try {
      await engine.destroyAll();
    } finally {
      if (stack.reachedDocker) await cleanupRun(stack.docker.runId);
    }
  };
  let run: ProgramRun;
  try {
    run = await runProgram({
      engine,
      project: PROJECT,
      stack: stackName,
      config,
      preview: options.preview,
      program: options.program ?? wholeProgram,
      freshModules: vi.resetModules,
    });
  } catch (error) {
    try {
      await destroy();
    } catch (cleanupError) {
      // Keep the run's own error first: the cleanup's (e.g. a network still in use by a container
      // the failed run created) is only a consequence of it.
      throw new AggregateError(
        [error, cleanupError],
        `${(error as Error).message} (and the cleanup after it failed)`,
      );
    }
    throw error;
  }
  return {
    engine,
    run,
    destroy,
    identity(name) {
      const component = engine.resource("mtls:pki:Identity", `pki-${name}`);
      const recorded = component?.componentOutputs;
      if (!recorded) throw new Error(`no identity "${name}" was issued`);
      // Component outputs arrive as the SDK serialised them: secrets still wrapped.
      const outputs = Object.fromEntries(
        Object.entries(recorded).map(([key, value]) => [
          key,
          pulumi.runtime.isRpcSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value,
        ]),
      ) as Record<string, string>;
      return {
        cert: outputs.chainPem!,
        key: outputs.privateKeyPem!,
        ca: outputs.caBundlePem!,
        leaf: outputs.certPem!,
      };
    },
  };
}
