/**
 * Every stack file of this project passes every policy of the pack: the program (index.ts) is
 * previewed under the emulated engine with the stack's config, and each registered resource goes
 * to the pack's Analyze (its inputs, secrets and unknowns as a preview has them), then all of them
 * to AnalyzeStack (planned outputs, dependencies and property dependencies). A real
 * `pulumi preview --policy-pack policy` of the stack reports nothing either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackConfig, stackNames } from "../support/stack-files.ts";
import { type AnalyzedRun, analyzedRun } from "./support/emulated-stack.ts";
import type { AnalyzerResource } from "./support/policy-pack.ts";
import { type PolicyPackProcess, startPolicyPack } from "./support/policy-pack.ts";

let pack: PolicyPackProcess;

beforeAll(async () => {
  pack = await startPolicyPack();
  await pack.configure();
});
afterAll(async () => {
  await pack?.stop();
});

const show = (ds: { policyName: string; urn: string; message: string }[]) =>
  ds.map((d) => `${d.policyName} ${d.urn}: ${d.message}`);

/** A copy of the run with one resource's properties changed (Analyze and AnalyzeStack alike). */
function mutate(
  run: AnalyzedRun,
  pick: (r: AnalyzerResource) => boolean,
  change: (properties: Record<string, unknown>) => void,
): AnalyzedRun {
  const copy = (list: AnalyzerResource[]) =>
    list.map((r) => {
      if (!pick(r)) return r;
      const properties = structuredClone(r.properties);
      change(properties);
      return { ...r, properties };
    });
  return { resources: copy(run.resources), stack: copy(run.stack) };
}

const names = (ds: { policyName: string }[]) => [...new Set(ds.map((d) => d.policyName))].sort();

// The pack judges the docker provider's resources; a kubernetes stack's are not covered yet (and
// its preview needs a cluster: the program checks the API server first).
const judged = stackNames().filter((stack) => stackConfig(stack).runtime !== "kubernetes");

describe.each(judged)("stack %s", (stack) => {
  const config = stackConfig(stack);
  const serverName = config.serverName ?? "mtls-server";
  const swarm = config.runtime === "swarm";
  let run: AnalyzedRun;

  beforeAll(async () => {
    run = await analyzedRun({
      project: "mtls-pki",
      stack,
      config,
      program: () => import("../../index.ts"),
      preview: true,
    });
  });

  it("previews with no policy violation, resource or stack", async () => {
    const perResource = (await Promise.all(run.resources.map((r) => pack.analyze(r)))).flat();
    const stackWide = await pack.analyzeStack(run.stack);
    expect(show([...perResource, ...stackWide])).toEqual([]);
    const types = new Set(run.stack.map((r) => r.type));
    expect(types).toContain("tls:index/privateKey:PrivateKey");
    expect(types).toContain("pulumi:pulumi:Stack");
  });

  // The pass above is not a pass by default: the rules see this stack's server as a workload that
  // holds an identity, its key upload or key secret as a key, and its clients' server name.
  it("is judged for real: its server without a user, and a client calling a name the server's certificate lacks, are violations", async () => {
    const isServer = (r: AnalyzerResource) =>
      r.name === serverName && (r.type.endsWith(":Container") || r.type.endsWith(":Service"));
    const rootless = mutate(run, isServer, (p) => {
      if (swarm) delete (p.taskSpec as { containerSpec: Record<string, unknown> }).containerSpec.user;
      else delete p.user;
    });
    expect(names(await pack.analyzeStack(rootless.stack))).toEqual(["workload-non-root"]);

    const client = JSON.parse(config.clients ?? '["client-a"]')[0] as string;
    const misnamed = mutate(
      run,
      (r) => r.name === client && (r.type.endsWith(":Container") || r.type.endsWith(":Service")),
      (p) => {
        if (swarm) {
          const env = (p.taskSpec as { containerSpec: { env: Record<string, string> } }).containerSpec.env;
          env.MTLS_SERVER_NAME = `${serverName}-x`;
        } else {
          p.envs = [...(p.envs as string[]), `MTLS_SERVER_NAME=${serverName}-x`];
        }
      },
    );
    expect(names(await pack.analyzeStack(misnamed.stack))).toEqual(["server-name-matches-alias"]);
  });

  it("is judged for real: the server's key delivered with a wider mode is a violation", async () => {
    if (swarm) {
      const widened = mutate(
        run,
        (r) => r.name === serverName && r.type.endsWith(":Service"),
        (p) => {
          const secrets = (p.taskSpec as { containerSpec: { secrets: Record<string, unknown>[] } })
            .containerSpec.secrets;
          for (const s of secrets) s.fileMode = 0o444;
        },
      );
      expect(names(await pack.analyzeStack(widened.stack))).toEqual(["private-key-secret-mount-permissions"]);
      return;
    }
    const delivery = run.resources.find((r) => r.name === `${serverName}-delivery`)!;
    const uploads = structuredClone(delivery.properties.uploads) as Record<string, unknown>[];
    for (const u of uploads) u.permissions = "0640";
    const diagnostics = await pack.analyze({ ...delivery, properties: { ...delivery.properties, uploads } });
    // Only the key upload (secret content) is held to the key rule, not the certificates.
    expect(show(diagnostics)).toEqual([
      expect.stringMatching(
        /^private-key-upload-permissions .*upload \/etc\/mtls\/tls\.key \(its content is secret\) has mode 0640/s,
      ),
    ]);
  });
});
