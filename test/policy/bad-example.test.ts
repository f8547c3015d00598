/**
 * The deliberately bad example (policy/examples/bad/) trips every policy of the pack exactly once,
 * with the message the CLI prints. Its program runs under the emulated engine at preview; its
 * resources reach the pack as a preview has them (secrets wrapped, computed values unknown).
 *
 * Two deviations, both because the bad example is bad on purpose: its providers plan by echoing
 * the inputs (the emulated tls provider refuses the P224 default key, the very mistake this
 * example makes, and the docker one refuses host networking), which is what the real plugins plan
 * minus their defaults; and the stack output that leaks a key is unknown at preview (no key
 * exists yet), so that one rule is shown on the same request with the output as the first
 * `pulumi up` fills it: a real key, not a secret.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDockerProvider, type EmulatedProvider, TlsProvider } from "../../emulation/index.ts";
import { type AnalyzedRun, analyzedRun } from "./support/emulated-stack.ts";
import { privateKeyPem } from "./support/engine-shapes.ts";
import { type Diagnostic, type PolicyPackProcess, startPolicyPack } from "./support/policy-pack.ts";

/** A provider that plans what it is given (at preview) and refuses to create anything. */
function planning(provider: EmulatedProvider): EmulatedProvider {
  return {
    pkg: provider.pkg,
    secretOutputs: (type) => provider.secretOutputs(type),
    diff: () => ({ kind: "none" }),
    create: async (req) => {
      if (!req.preview) throw new Error("the bad example is never deployed");
      return { id: "", state: req.inputs };
    },
    update: async () => {
      throw new Error("the bad example is never deployed");
    },
    delete: async () => {},
  };
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

let pack: PolicyPackProcess;
let run: AnalyzedRun;
let diagnostics: Diagnostic[];

beforeAll(async () => {
  pack = await startPolicyPack();
  await pack.configure();
  run = await analyzedRun({
    project: "mtls-pki-bad-example",
    stack: "dev",
    config: {},
    program: () => import("../../policy/examples/bad/index.ts"),
    preview: true,
    providers: [planning(new TlsProvider()), planning(createDockerProvider())],
  });
  diagnostics = [
    ...(await Promise.all(run.resources.map((r) => pack.analyze(r)))).flat(),
    ...(await pack.analyzeStack(run.stack)),
  ];
});
afterAll(async () => {
  await pack?.stop();
});

it("trips every policy but the stack-output one exactly once at preview, each at its level, with its description and fix", async () => {
  const { policies } = await pack.info();
  const expected = policies.map((p) => p.name).filter((n) => n !== "private-key-in-stack-output");
  expect(diagnostics.map((d) => d.policyName).sort()).toEqual(expected.sort());
  for (const d of diagnostics) {
    const policy = policies.find((p) => p.name === d.policyName)!;
    expect(d.enforcementLevel, d.policyName).toBe(policy.enforcementLevel);
    expect(d.message, d.policyName).toMatch(
      new RegExp(`^${literal(policy.description)}\\n.+\\. Fix: .+\\.$`),
    );
  }
  const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
  expect(mandatory.length).toBeGreaterThanOrEqual(10);
});

it("names the resource and the mistake in each message", () => {
  const byPolicy = Object.fromEntries(diagnostics.map((d) => [d.policyName, d.message.split("\n")[1]]));
  expect(byPolicy["tls-key-ecdsa-curve"]).toMatch(
    /ecdsaCurve is not set, so the tls provider uses its default P224/,
  );
  expect(byPolicy["tls-key-rsa-bits"]).toMatch(/rsaBits is 1024, below the minimum of 2048 bits/);
  expect(byPolicy["tls-ca-key-usage"]).toMatch(/lacks crl_signing/);
  expect(byPolicy["tls-ca-path-length"]).toMatch(
    /"intermediate" is an intermediate CA with no path-length limit.*Fix: set maxPathLength: 1 on "root"/,
  );
  expect(byPolicy["private-key-in-runtime-config"]).toMatch(
    /envs of docker:index\/container:Container "server" is computed from the private key "server-key"/,
  );
  expect(byPolicy["private-key-upload-permissions"]).toMatch(
    /upload \/etc\/mtls\/tls\.key \(its content is secret\) has mode 0644 and no owner/,
  );
  expect(byPolicy["private-key-secret-mount-permissions"]).toMatch(
    /"swarm-server" mounts the private key secret at \/etc\/mtls\/tls\.key with fileMode 0444 and no fileUid/,
  );
  expect(byPolicy["workload-no-host-network"]).toMatch(/"host-network-client"/);
  expect(byPolicy["server-name-matches-alias"]).toMatch(
    /calls https:\/\/bad-server:8443 and checks the name bad-server/,
  );
});

it("flags the key it exports in plaintext once the key exists (the stack outputs of its first up)", async () => {
  const stack = run.stack.map((r) =>
    r.type === "pulumi:pulumi:Stack"
      ? { ...r, properties: { ...r.properties, serverKeyPem: privateKeyPem() } }
      : r,
  );
  const found = (await pack.analyzeStack(stack)).filter(
    (d) => d.policyName === "private-key-in-stack-output",
  );
  expect(found.map((d) => d.message.split("\n")[1])).toEqual([
    "stack output serverKeyPem holds a private key and is not a secret. Fix: export it as pulumi.secret(...).",
  ]);
});
