/**
 * Runs components as a small Pulumi program under the emulated engine and the emulated tls,
 * docker, kubernetes and command providers, without a Docker engine or a cluster: PKI programs run as `pulumi up` (the tls emulation
 * issues real keys and certificates in-process), Docker programs as `pulumi preview` (the docker
 * emulation touches no engine in preview), so these tests never skip.
 *
 * Besides the engine's records it keeps the inputs exactly as the SDK sent them (secrets still
 * wrapped), so a test can tell which inputs are secret.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  createCommandProvider,
  createDockerProvider,
  createKubernetesProvider,
  EmulatedEngine,
  type ProgramRun,
  type Registration,
  runProgram,
  TlsProvider,
} from "../../emulation/index.ts";

/** Records the SDK's raw inputs per URN-less key `<type>::<name>`. */
class RecordingEngine extends EmulatedEngine {
  readonly rawInputs = new Map<string, Record<string, unknown>>();
  override newResource(args: pulumi.runtime.MockResourceArgs) {
    this.rawInputs.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
    return super.newResource(args);
  }
}

export interface ComponentRun {
  engine: RecordingEngine;
  run: ProgramRun;
  /** The registration of that type and name; fails the test if there is none. */
  child(type: string, name: string): Registration;
  /** Whether the SDK sent that top-level input as a secret. */
  isSecretInput(type: string, name: string, input: string): boolean;
}

export async function runComponents(
  program: () => Record<string, unknown> | undefined,
  options: { preview?: boolean; engine?: RecordingEngine } = {},
): Promise<ComponentRun> {
  const engine = options.engine ?? newEngine();
  const run = await runProgram({
    engine,
    project: "mtls-pki",
    stack: "test",
    preview: options.preview ?? false,
    program: async () => program() ?? {},
  });
  return {
    engine,
    run,
    child(type, name) {
      const found = run.registrations.find((r) => r.type === type && r.name === name);
      if (!found) {
        const seen = run.registrations.map((r) => `${r.type} ${r.name}`).join(", ");
        throw new Error(`no registration ${type} "${name}" (registered: ${seen})`);
      }
      return found;
    },
    isSecretInput(type, name, input) {
      const raw = engine.rawInputs.get(`${type}::${name}`);
      if (!raw) throw new Error(`no inputs recorded for ${type} "${name}"`);
      return pulumi.runtime.isRpcSecret(raw[input]);
    },
  };
}

export function newEngine(): RecordingEngine {
  return new RecordingEngine([
    new TlsProvider(),
    createDockerProvider(),
    createKubernetesProvider(),
    createCommandProvider(),
  ]);
}

/** Runs a program that must fail; returns the engine's message and what was registered. */
export async function refusal(program: () => void, options: { preview?: boolean } = {}) {
  const engine = newEngine();
  const attempt = runComponents(
    () => {
      program();
      return {};
    },
    { ...options, engine },
  );
  const error = await attempt.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  if (!error) throw new Error("expected the program to fail");
  return { message: error.message, registrations: engine.registrations };
}

export const TYPES = {
  pki: "mtls:pki:MtlsPki",
  identity: "mtls:pki:Identity",
  service: "mtls:docker:MtlsService",
  serviceImage: "mtls:docker:ServiceImage",
  key: "tls:index/privateKey:PrivateKey",
  csr: "tls:index/certRequest:CertRequest",
  selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
  signed: "tls:index/locallySignedCert:LocallySignedCert",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  image: "docker:index/image:Image",
  network: "docker:index/network:Network",
} as const;
