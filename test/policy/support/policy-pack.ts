/**
 * The policy pack (policy/) started the way the Pulumi CLI starts it, and driven over gRPC the
 * way the engine drives it: these tests stand in for the engine, not for the pack.
 *
 * The CLI's `pulumi-analyzer-policy` plugin runs, in the pack's folder,
 * `node <require.resolve("@pulumi/pulumi/cmd/run-policy-pack")> <engine address> .` (the script
 * in pulumi/pulumi sdk/nodejs/dist); run-policy-pack registers ts-node (type-checking the pack),
 * requires the folder's package.json `main`, and the PolicyPack it constructs prints the port of
 * its gRPC Analyzer service on stdout. The engine then calls GetAnalyzerInfo, Configure (the
 * policy config, every policy with its enforcement level), Analyze for each resource (its inputs)
 * and AnalyzeStack once at the end (every resource's outputs, with dependencies). The requests
 * here are the same protobuf messages (@pulumi/pulumi/proto), with properties marshalled as the
 * engine marshals them for an analyzer: secrets as the secret signature object, unknowns as the
 * unknown sentinel strings (engine-shapes.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const POLICY_DIR = fileURLToPath(new URL("../../../policy/", import.meta.url));

const require = createRequire(`${POLICY_DIR}package.json`);
// CommonJS modules, resolved from the pack's folder as the pack itself resolves them, so that
// messages and credentials come from the copies its server uses.
const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb");
const emptyProto = require("google-protobuf/google/protobuf/empty_pb");
const structProto = require("google-protobuf/google/protobuf/struct_pb");

export type Level = "advisory" | "mandatory" | "disabled" | "remediate";
const LEVELS: Level[] = ["advisory", "mandatory", "disabled", "remediate"];

export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  /** What the CLI prints under the policy: the description, a newline, the violation's message. */
  message: string;
  enforcementLevel: Level;
  urn: string;
}

export interface PolicyInfo {
  name: string;
  description: string;
  enforcementLevel: Level;
  remediationSteps: string;
  configSchema?: Record<string, unknown>;
}

/** One resource as the engine describes it to an analyzer (wire-shaped properties). */
export interface AnalyzerResource {
  type: string;
  name: string;
  urn: string;
  /** Analyze: the inputs; AnalyzeStack: the outputs. Already engine-shaped (see engine-shapes.ts). */
  properties: Record<string, unknown>;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  additionalSecretOutputs?: string[];
}

type Callback<T> = (error: Error | null, response: T) => void;
type Unary = (request: unknown, callback: Callback<unknown>) => void;

function call<T>(client: Record<string, Unary>, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!.call(client, request, (error, response) =>
      error ? reject(error) : resolve(response as T),
    );
  });
}

/** A Struct of the properties; keys whose value is undefined are left out, as the engine sends no such key. */
function struct(properties: Record<string, unknown>) {
  return structProto.Struct.fromJavaScript(JSON.parse(JSON.stringify(properties)));
}

function options(r: AnalyzerResource) {
  const o = new analyzerProto.AnalyzerResourceOptions();
  o.setProtect(false);
  o.setAdditionalsecretoutputsList(r.additionalSecretOutputs ?? []);
  if (r.parent) o.setParent(r.parent);
  return o;
}

interface DiagnosticMessage {
  getPolicyname(): string;
  getPolicypackname(): string;
  getPolicypackversion(): string;
  getDescription(): string;
  getMessage(): string;
  getEnforcementlevel(): number;
  getUrn(): string;
}

function diagnostics(response: { getDiagnosticsList(): DiagnosticMessage[] }): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({
    policyName: d.getPolicyname(),
    policyPackName: d.getPolicypackname(),
    policyPackVersion: d.getPolicypackversion(),
    description: d.getDescription(),
    message: d.getMessage(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()]!,
    urn: d.getUrn(),
  }));
}

export interface PolicyPackProcess {
  info(): Promise<{ name: string; version: string; policies: PolicyInfo[] }>;
  /**
   * Configure, as the CLI does after reading `--policy-pack-config`: every policy gets an entry,
   * its enforcement level from the config ("all" or its own) or its default, and its properties.
   */
  configure(
    config?: Record<string, Level | ({ enforcementLevel?: Level } & Record<string, unknown>)>,
  ): Promise<void>;
  analyze(resource: AnalyzerResource): Promise<Diagnostic[]>;
  analyzeStack(resources: AnalyzerResource[]): Promise<Diagnostic[]>;
  /** Remediate: the new properties of each remediation (policy name -> properties). */
  remediate(resource: AnalyzerResource): Promise<Record<string, Record<string, unknown>>>;
  /** What the pack printed on stderr (ts-node errors, crashes). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the pack; rejects with its stderr if it exits or prints no port within the timeout. */
export async function startPolicyPack(timeoutMs = 120_000): Promise<PolicyPackProcess> {
  const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
  // The engine address is the CLI's; run-policy-pack drops it. Nothing listens there.
  const child: ChildProcess = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], {
    cwd: POLICY_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the policy pack printed no port within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      const line = stdout.split("\n").find((l) => /^\d+$/.test(l.trim()));
      if (line) {
        clearTimeout(timer);
        resolve(Number(line.trim()));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the policy pack exited (${code ?? signal}) before serving; stderr:\n${stderr}`));
    });
  });
  const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  const info: PolicyPackProcess["info"] = async () => {
    const response = await call<{
      getName(): string;
      getVersion(): string;
      getPoliciesList(): {
        getName(): string;
        getDescription(): string;
        getEnforcementlevel(): number;
        getRemediationSteps(): string;
        getConfigschema(): { getProperties(): { toJavaScript(): Record<string, unknown> } } | undefined;
      }[];
    }>(client, "getAnalyzerInfo", new emptyProto.Empty());
    return {
      name: response.getName(),
      version: response.getVersion(),
      policies: response.getPoliciesList().map((p) => ({
        name: p.getName(),
        description: p.getDescription(),
        enforcementLevel: LEVELS[p.getEnforcementlevel()]!,
        remediationSteps: p.getRemediationSteps(),
        configSchema: p.getConfigschema()?.getProperties().toJavaScript(),
      })),
    };
  };

  return {
    info,
    async configure(config = {}) {
      const { policies } = await info();
      const request = new analyzerProto.ConfigureAnalyzerRequest();
      const all = config.all;
      for (const policy of policies) {
        const given = config[policy.name];
        const own = typeof given === "string" ? { enforcementLevel: given } : (given ?? {});
        const { enforcementLevel, ...properties } = own as { enforcementLevel?: Level } & Record<
          string,
          unknown
        >;
        const level =
          enforcementLevel ?? (typeof all === "string" ? all : undefined) ?? policy.enforcementLevel;
        const entry = new analyzerProto.PolicyConfig();
        entry.setEnforcementlevel(LEVELS.indexOf(level));
        entry.setProperties(structProto.Struct.fromJavaScript(properties));
        request.getPolicyconfigMap().set(policy.name, entry);
      }
      await call(client, "configure", request);
    },
    async analyze(r) {
      const request = new analyzerProto.AnalyzeRequest();
      request.setType(r.type);
      request.setName(r.name);
      request.setUrn(r.urn);
      request.setProperties(struct(r.properties));
      request.setOptions(options(r));
      return diagnostics(await call(client, "analyze", request));
    },
    async analyzeStack(resources) {
      const request = new analyzerProto.AnalyzeStackRequest();
      request.setResourcesList(
        resources.map((r) => {
          const m = new analyzerProto.AnalyzerResource();
          m.setType(r.type);
          m.setName(r.name);
          m.setUrn(r.urn);
          m.setProperties(struct(r.properties));
          m.setOptions(options(r));
          if (r.parent) m.setParent(r.parent);
          m.setDependenciesList(r.dependencies ?? []);
          for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
            if (urns.length === 0) continue;
            const deps = new analyzerProto.AnalyzerPropertyDependencies();
            deps.setUrnsList(urns);
            m.getPropertydependenciesMap().set(property, deps);
          }
          return m;
        }),
      );
      return diagnostics(await call(client, "analyzeStack", request));
    },
    async remediate(r) {
      const request = new analyzerProto.AnalyzeRequest();
      request.setType(r.type);
      request.setName(r.name);
      request.setUrn(r.urn);
      request.setProperties(struct(r.properties));
      request.setOptions(options(r));
      const response = await call<{
        getRemediationsList(): {
          getPolicyname(): string;
          getProperties(): { toJavaScript(): Record<string, unknown> };
        }[];
      }>(client, "remediate", request);
      return Object.fromEntries(
        response.getRemediationsList().map((m) => [m.getPolicyname(), m.getProperties().toJavaScript()]),
      );
    },
    stderr: () => stderr,
    async stop() {
      client.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
