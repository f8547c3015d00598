/**
 * MtlsSwarmService's children and hardening, in preview under the emulated engine (no Docker
 * engine needed, so these never skip): one auto-named swarm secret per identity file, mounted where
 * the services read them with the service user's ownership; a hardened replicated service with a
 * start-first, health-gated rollout; no key material in any plaintext input; each bad arg refused in
 * one line. What the tasks then do on a real swarm is the emulation's and the end-to-end test's.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MtlsSwarmService, type MtlsSwarmServiceArgs, SwarmNetwork } from "../../components/index.ts";
import { HEALTHCHECK_COMMAND } from "../../components/mtls-service-args.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";
import { type ComponentRun, refusal, runComponents, TYPES } from "./harness.ts";

const SWARM = {
  component: "mtls:swarm:MtlsSwarmService",
  secret: "docker:index/secret:Secret",
  service: "docker:index/service:Service",
} as const;

let leaf: Leaf;
let caPem: string;

beforeAll(async () => {
  const ca = await createCa({ commonName: "swarm contract test CA" });
  caPem = ca.certPem;
  leaf = await issueLeaf(ca, { commonName: "api", purpose: "server", dnsNames: ["api"] });
});

const identity = () => ({ chainPem: leaf.chainPem, privateKeyPem: leaf.keyPem, caBundlePem: caPem });
const swarmService = (name: string, args: Partial<MtlsSwarmServiceArgs> = {}) =>
  new MtlsSwarmService(name, {
    image: "sha256:service",
    role: "server",
    identity: identity(),
    networkId: "net-id",
    ...args,
  });

const preview = (program: () => void): Promise<ComponentRun> =>
  runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );

/** True when a secret wrapper sits anywhere inside the value the SDK sent. */
function containsSecret(value: unknown): boolean {
  if (pulumi.runtime.isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

const decoded = (data: unknown) => Buffer.from(String(data), "base64").toString("utf8");

describe("MtlsSwarmService children", () => {
  let run: ComponentRun;
  type Spec = {
    containerSpec: Record<string, unknown> & { secrets: Record<string, unknown>[] };
    resources: { limits: { memoryBytes: number } };
    networksAdvanceds: unknown[];
  };
  let spec: Spec;
  beforeAll(async () => {
    run = await preview(() => swarmService("api", { aliases: ["api"], replicas: 2 }));
    spec = run.child(SWARM.service, "api").inputs.taskSpec as Spec;
  });

  it("declares four auto-named secrets (the identity's three and the server's policy file) and one service, named after the component", () => {
    const component = run.child(SWARM.component, "api").urn;
    const children = run.run.registrations.filter((r) => r.parent === component);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${SWARM.secret} api-ca-crt`,
      `${SWARM.secret} api-policy`,
      `${SWARM.secret} api-tls-crt`,
      `${SWARM.secret} api-tls-key`,
      `${SWARM.service} api`,
    ]);
    for (const r of children) expect(r.inputs.name).toBeUndefined();
  });

  it("holds the chain, the key and the CA bundle, base64 as the provider takes them", () => {
    expect(decoded(run.child(SWARM.secret, "api-tls-crt").inputs.data)).toBe(leaf.chainPem);
    expect(decoded(run.child(SWARM.secret, "api-tls-key").inputs.data)).toBe(leaf.keyPem);
    expect(decoded(run.child(SWARM.secret, "api-ca-crt").inputs.data)).toBe(caPem);
  });

  it("sends key material only as a secret input", () => {
    expect(run.isSecretInput(SWARM.secret, "api-tls-key", "data")).toBe(true);
    for (const r of run.run.registrations) {
      const raw = run.engine.rawInputs.get(`${r.type}::${r.name}`) ?? {};
      for (const [key, value] of Object.entries(raw)) {
        if (containsSecret(value)) continue;
        expect(JSON.stringify(value) ?? "", `${r.type} ${r.name} ${key}`).not.toMatch(/PRIVATE KEY/);
      }
    }
  });

  it("mounts tls.crt, ca.crt and policy.json 0444 and tls.key 0400 under /etc/mtls, owned by 10001:10001", () => {
    const mounts = spec.containerSpec.secrets.map(({ fileName, fileMode, fileUid, fileGid }) => ({
      fileName,
      fileMode,
      fileUid,
      fileGid,
    }));
    const owner = { fileUid: "10001", fileGid: "10001" };
    expect(mounts).toEqual([
      { fileName: "/etc/mtls/tls.crt", fileMode: 0o444, ...owner },
      { fileName: "/etc/mtls/tls.key", fileMode: 0o400, ...owner },
      { fileName: "/etc/mtls/ca.crt", fileMode: 0o444, ...owner },
      { fileName: "/etc/mtls/policy.json", fileMode: 0o444, ...owner },
    ]);
  });

  it("delivers the server's access policy as its policy file, not its environment", async () => {
    const policyRun = await preview(() =>
      swarmService("gate", {
        allowedClients: ["billing"],
        revokedSerials: ["0a:1b"],
        tlsPolicy: "intermediate",
      }),
    );
    expect(JSON.parse(decoded(policyRun.child(SWARM.secret, "gate-policy").inputs.data))).toEqual({
      allowedClients: ["billing"],
      revokedSerials: ["A1B"],
      tlsPolicy: "intermediate",
    });
    const env = JSON.stringify(
      (policyRun.child(SWARM.service, "gate").inputs.taskSpec as Spec).containerSpec.env,
    );
    expect(env).not.toMatch(/MTLS_ALLOWED_CLIENTS|MTLS_TLS_POLICY|billing/);
  });

  it("gives a client no policy file", async () => {
    const clientRun = await preview(() =>
      swarmService("worker", { role: "client", serverUrl: "https://api:8443" }),
    );
    expect(clientRun.run.registrations.map((r) => r.name)).not.toContain("worker-policy");
  });

  it("runs as 10001:10001 with a read-only root, no capabilities, 256 MB and the image's health check", () => {
    expect(spec.containerSpec).toMatchObject({
      user: "10001:10001",
      readOnly: true,
      capDrops: ["ALL"],
      args: ["server"],
      healthcheck: { tests: HEALTHCHECK_COMMAND },
    });
    expect(spec.resources.limits.memoryBytes).toBe(256 * 1024 * 1024);
  });

  it("rolls one task at a time, start-first, rolled back when a new task fails its health check", () => {
    const inputs = run.child(SWARM.service, "api").inputs;
    expect(inputs.updateConfig).toMatchObject({
      parallelism: 1,
      order: "start-first",
      failureAction: "rollback",
    });
    expect(inputs.convergeConfig).toBeDefined();
    expect(inputs.mode).toEqual({ replicated: { replicas: 2 } });
  });

  it("joins the network by id with its aliases, resolved by DNS round robin, publishing nothing", () => {
    const inputs = run.child(SWARM.service, "api").inputs;
    expect(spec.networksAdvanceds).toEqual([{ id: "net-id", aliases: ["api"] }]);
    expect(inputs.endpointSpec).toEqual({ mode: "dnsrr" });
  });

  it("labels the certificate secret with the chain's SHA-256, and neither the key secret (kept across a re-issue) nor the CA secret", () => {
    const labels = (name: string) =>
      run.child(SWARM.secret, name).inputs.labels as { label: string; value: string }[];
    const hash = (name: string) => labels(name).find((l) => l.label === "mtls-pki.chain-sha256")?.value;
    expect(hash("api-tls-crt")).toMatch(/^[0-9a-f]{64}$/);
    expect(hash("api-tls-key")).toBeUndefined();
    expect(hash("api-ca-crt")).toBeUndefined();
  });

  it("waits for nothing when waitUntilConverged is false (a client whose health depends on the server)", async () => {
    const client = await preview(() =>
      swarmService("c", { role: "client", serverUrl: "https://api:8443", waitUntilConverged: false }),
    );
    expect(client.child(SWARM.service, "c").inputs.convergeConfig).toBeUndefined();
  });

  it("puts the network on an attachable overlay", async () => {
    const net = await preview(() => new SwarmNetwork("mtls"));
    expect(net.child(TYPES.network, "mtls").inputs).toMatchObject({ driver: "overlay", attachable: true });
  });
});

describe("MtlsSwarmService refusals", () => {
  it.each([
    [{ replicas: 0 }, /mtls:swarm:MtlsSwarmService "api": replicas: 0 is not a whole number of at least 1/],
    [{ networkId: "" }, /networkId: "" is empty; it is required/],
    [{ publish: { hostPort: 8443 } }, /publish: is not available on a swarm: .*cannot bind 127\.0\.0\.1/],
    [{ restart: "always" }, /restart: is an MtlsService arg/],
    [{ port: 70000 }, /mtls:swarm:MtlsSwarmService "api": port: 70000 is not a port/],
  ])("refuses %j in one line, declaring nothing", async (args, message) => {
    const result = await refusal(() => swarmService("api", args as Partial<MtlsSwarmServiceArgs>), {
      preview: true,
    });
    expect(result.message).toMatch(message);
    expect(result.message.split("\n").filter((l) => l.includes("MtlsSwarmService"))).toHaveLength(1);
    expect(result.registrations.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
  });
});
