/**
 * Runs this project's program (index.ts) under the emulated engine with the emulated tls and
 * docker providers, and reads back what it issued: each identity's certificate chain, key and CA
 * bundle, exactly as the Identity component hands them to the containers.
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import {
  cleanupRun,
  createDockerProvider,
  type DockerProvider,
  EmulatedEngine,
  type ProgramRun,
  runProgram,
  TlsProvider,
} from "../emulation/index.ts";
import type { TlsIdentity } from "../support/tls-handshake.ts";

export const PROJECT = "mtls-pki";

export interface Deployment {
  engine: EmulatedEngine;
  run: ProgramRun;
  /** The identity of a workload by name, from the Identity component's registered outputs. */
  identity(name: string): TlsIdentity & { leaf: string };
  /** `pulumi destroy`, then removal of anything the Docker emulation labelled for this run. */
  destroy(): Promise<void>;
}

export interface Stack {
  engine: EmulatedEngine;
  docker: DockerProvider;
}

export function newStack(): Stack {
  const docker = createDockerProvider();
  return { engine: new EmulatedEngine([new TlsProvider(), docker]), docker };
}

type Program = () => Promise<Record<string, unknown>>;

/** The whole program (PKI and containers), as `pulumi up` / `pulumi preview` runs it. */
export const wholeProgram: Program = () => import("../../index.ts");

/** Only the PKI half of the program, for tests of the certificates themselves. */
export const pkiProgram: Program = async () => {
  const { loadConfig } = await import("../../components/config.ts");
  const { declarePki, identitySummary } = await import("../../components/pki.ts");
  const pki = declarePki(loadConfig());
  return { caCertificatePem: pki.ca.rootCertPem, server: identitySummary(pki.server) };
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
      await cleanupRun(stack.docker.runId);
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
    await destroy();
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
