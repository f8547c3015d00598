/**
 * Every stack file of this project passes every policy of the pack: the program (index.ts) is
 * previewed under the emulated engine with the stack's config, and each registered resource goes
 * to the pack's Analyze (its inputs, secrets and unknowns as a preview has them), then all of them
 * to AnalyzeStack (planned outputs, dependencies and property dependencies). A real
 * `pulumi preview --policy-pack policy` of the stack reports nothing either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackConfig, stackNames } from "../support/stack-files.ts";
import { analyzedRun } from "./support/emulated-stack.ts";
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

describe.each(stackNames())("stack %s", (stack) => {
  it("previews with no policy violation, resource or stack, and its workloads are recognised as holding identities", async () => {
    const run = await analyzedRun({
      project: "mtls-pki",
      stack,
      config: stackConfig(stack),
      program: () => import("../../index.ts"),
      preview: true,
    });
    const perResource = (await Promise.all(run.resources.map((r) => pack.analyze(r)))).flat();
    const stackWide = await pack.analyzeStack(run.stack);
    expect(show([...perResource, ...stackWide])).toEqual([]);
    // Not a pass by default: the stack has the resources the rules look at.
    const types = new Set(run.stack.map((r) => r.type));
    expect(types).toContain("tls:index/privateKey:PrivateKey");
    expect(types).toContain("pulumi:pulumi:Stack");
  });
});
