/**
 * MtlsKubernetesService's children and hardening, in preview under the emulated engine (the
 * kubernetes emulation contacts no cluster in preview, so these never skip): the identity as an
 * auto-named `kubernetes.io/tls` Secret and the server's policy file as an auto-named ConfigMap,
 * projected read-only at /etc/mtls; a Deployment at the restricted Pod Security level with a
 * readiness-gated rolling update that never goes below its replicas; the Service named as the
 * certificate's DNS name; no key material in any plaintext input; each bad arg refused in one line.
 * What the pods then do on a real cluster is test/kubernetes's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MtlsKubernetesService, type MtlsKubernetesServiceArgs } from "../../components/index.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";
import { type ComponentRun, refusal, runComponents } from "./harness.ts";
import { expectNoPlaintextKey, K8S } from "./kubernetes-helpers.ts";

let leaf: Leaf;
let caPem: string;

beforeAll(async () => {
  const ca = await createCa({ commonName: "kubernetes contract test CA" });
  caPem = ca.certPem;
  leaf = await issueLeaf(ca, { commonName: "api", purpose: "server", dnsNames: ["api"] });
});

const identity = () => ({ chainPem: leaf.chainPem, privateKeyPem: leaf.keyPem, caBundlePem: caPem });
const kubeService = (name: string, args: Partial<MtlsKubernetesServiceArgs> = {}) =>
  new MtlsKubernetesService(name, {
    image: "mtls-service:k8s-0123456789ab",
    imagePullPolicy: "Never",
    role: "server",
    identity: identity(),
    namespace: "mtls-test",
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

type Pod = {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken: boolean;
  containers: Record<string, unknown>[];
  volumes: {
    name: string;
    projected: { defaultMode: number; sources: Record<string, { name: unknown }>[] };
  }[];
  hostAliases?: unknown;
};
type DeploymentSpec = {
  replicas: number;
  strategy: unknown;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: Pod };
};
const decoded = (data: unknown) => Buffer.from(String(data), "base64").toString("utf8");

describe("MtlsKubernetesService children (server)", () => {
  let run: ComponentRun;
  let spec: DeploymentSpec;
  let pod: Pod;
  let container: Record<string, unknown>;
  beforeAll(async () => {
    run = await preview(() => kubeService("api", { replicas: 2, allowedClients: ["billing"] }));
    spec = run.child(K8S.deployment, "api").inputs.spec as DeploymentSpec;
    pod = spec.template.spec;
    container = pod.containers[0]!;
  });

  it("declares the Secret, the policy ConfigMap and the Deployment auto-named, and the Service by its DNS name", () => {
    const component = run.child(K8S.component, "api").urn;
    const children = run.run.registrations.filter((r) => r.parent === component);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${K8S.deployment} api`,
      `${K8S.configMap} api-policy`,
      `${K8S.secret} api-tls`,
      `${K8S.service} api-service`,
    ]);
    for (const type of [K8S.deployment, K8S.configMap, K8S.secret]) {
      const metadata = children.find((r) => r.type === type)!.inputs.metadata as Record<string, unknown>;
      expect(metadata.name, type).toBeUndefined();
      expect(metadata.namespace, type).toBe("mtls-test");
    }
    expect(run.child(K8S.service, "api-service").inputs.metadata).toMatchObject({
      name: "api",
      namespace: "mtls-test",
    });
  });

  it("holds the chain, the key and the CA bundle in a kubernetes.io/tls Secret, sent only as a secret", () => {
    const secret = run.child(K8S.secret, "api-tls").inputs as { type: string; data: Record<string, string> };
    expect(secret.type).toBe("kubernetes.io/tls");
    expect(Object.keys(secret.data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    expect(decoded(secret.data["tls.crt"])).toBe(leaf.chainPem);
    expect(decoded(secret.data["tls.key"])).toBe(leaf.keyPem);
    expect(decoded(secret.data["ca.crt"])).toBe(caPem);
    expect(run.isSecretInput(K8S.secret, "api-tls", "data")).toBe(true);
    expectNoPlaintextKey(run, leaf.keyPem);
  });

  it("puts the access policy in the ConfigMap's policy.json, not in the pod's environment", () => {
    const data = run.child(K8S.configMap, "api-policy").inputs.data as Record<string, string>;
    expect(JSON.parse(data["policy.json"]!)).toEqual({ allowedClients: ["billing"], revokedSerials: [] });
    expect(JSON.stringify(container.env)).not.toContain("billing");
  });

  it("mounts both read-only at /etc/mtls through one projected volume, mode 0400", () => {
    expect(container.volumeMounts).toEqual([{ name: "identity", mountPath: "/etc/mtls", readOnly: true }]);
    expect(pod.volumes).toHaveLength(1);
    const volume = pod.volumes[0]!;
    expect(volume.name).toBe("identity");
    expect(volume.projected.defaultMode).toBe(0o400);
    expect(volume.projected.sources.map((s) => Object.keys(s)[0])).toEqual(["secret", "configMap"]);
  });

  it("runs at the restricted Pod Security level, as the services' user 10001 with fsGroup 10001", () => {
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.resources).toEqual({
      limits: { memory: "256Mi", cpu: "1" },
      requests: { memory: "64Mi", cpu: "25m" },
    });
  });

  it("rolls one pod at a time and never below the replicas, gated on /readyz of the status port", () => {
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "status" } });
    expect(container.ports).toEqual([
      { name: "mtls", containerPort: 8443, protocol: "TCP" },
      { name: "status", containerPort: 9090, protocol: "TCP" },
    ]);
    // The kubelet probes the pod's address: the status listener must be on it.
    expect(container.env).toContainEqual({ name: "MTLS_STATUS_LISTEN", value: "0.0.0.0:9090" });
    expect(container.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(container).toMatchObject({
      image: "mtls-service:k8s-0123456789ab",
      imagePullPolicy: "Never",
      args: ["server"],
    });
  });

  it("routes the Service's port to the pods the Deployment selects", () => {
    const service = run.child(K8S.service, "api-service").inputs.spec as Record<string, unknown>;
    expect(service).toEqual({
      type: "ClusterIP",
      selector: spec.selector.matchLabels,
      ports: [{ name: "mtls", port: 8443, targetPort: "mtls", protocol: "TCP" }],
    });
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
  });
});

describe("MtlsKubernetesService children (client)", () => {
  it("has no Service and no policy, reaches its server through hostAliases, and need not be ready for `up`", async () => {
    const run = await preview(() =>
      kubeService("billing", {
        role: "client",
        serverUrl: "https://api:8443",
        hostAliases: [{ ip: "10.96.0.10", hostnames: ["api"] }],
        waitUntilReady: false,
      }),
    );
    const types = run.run.registrations.filter((r) => r.name.startsWith("billing")).map((r) => r.type);
    expect(types).not.toContain(K8S.service);
    expect(types).not.toContain(K8S.configMap);
    const deployment = run.child(K8S.deployment, "billing").inputs as {
      metadata: Record<string, unknown>;
      spec: DeploymentSpec;
    };
    expect(deployment.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    const pod = deployment.spec.template.spec;
    expect(pod.hostAliases).toEqual([{ ip: "10.96.0.10", hostnames: ["api"] }]);
    const container = pod.containers[0]!;
    expect(container.env).toContainEqual({ name: "MTLS_SERVER_URL", value: "https://api:8443" });
    expect(container.env).toContainEqual({ name: "MTLS_STATUS_LISTEN", value: "0.0.0.0:9091" });
    expect(container.ports).toEqual([{ name: "status", containerPort: 9091, protocol: "TCP" }]);
    expect(pod.volumes[0]!.projected.sources.map((s) => Object.keys(s)[0])).toEqual(["secret"]);
  });
});

describe("MtlsKubernetesService refusals", () => {
  it.each([
    [{ replicas: 0 }, "replicas: 0 is not a whole number of at least 1"],
    [{ namespace: "" }, 'namespace: "" is empty; it is required'],
    [
      { imagePullPolicy: "Sometimes" },
      'imagePullPolicy: "Sometimes" is not one of Never, IfNotPresent, Always',
    ],
    [{ publish: { hostPort: 8443 } }, "publish: is not available on Kubernetes"],
    [{ networkName: "mtls" }, "networkName: is an MtlsService or MtlsSwarmService arg"],
    [{ role: "client", serviceName: "api" }, "serviceName: is for a server; this is a client"],
  ] as [Record<string, unknown>, string][])(
    "refuses %j in one line naming the arg, declaring nothing",
    async (args, line) => {
      const { message, registrations } = await refusal(
        () => kubeService("api", args as Partial<MtlsKubernetesServiceArgs>),
        {
          preview: true,
        },
      );
      expect(message).toContain(`mtls:kubernetes:MtlsKubernetesService "api": ${line}`);
      expect(registrations.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    },
  );

  it("refuses a name Kubernetes cannot derive object names from", async () => {
    const { message } = await refusal(() => kubeService("Api"), { preview: true });
    expect(message).toContain('mtls:kubernetes:MtlsKubernetesService "Api": name: "Api" is not a valid name');
  });
});
