/**
 * The runtime keys of the stack configuration: `runtime` (docker, swarm or kubernetes),
 * `serverReplicas` and the kubernetes keys, and the combinations a swarm or a cluster cannot
 * honour, each refused in one line naming the key.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../components/config.ts";

const parse = (values: Record<string, string>) => parseConfig((key) => values[key], "swarm");
function problemsOf(values: Record<string, string>): string[] {
  try {
    parse(values);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be refused`);
}

describe("runtime configuration", () => {
  it("runs on one Docker engine unless told otherwise, with two server replicas for a swarm", () => {
    expect(parse({})).toMatchObject({ runtime: "docker", serverReplicas: 2 });
    expect(parse({ runtime: "swarm", serverReplicas: "3" })).toMatchObject({
      runtime: "swarm",
      serverReplicas: 3,
    });
  });

  it("refuses an unknown runtime", () => {
    expect(problemsOf({ runtime: "nomad" })).toEqual([
      'runtime: "nomad" is not one of docker, swarm, kubernetes',
    ]);
  });

  it("refuses fewer than one server replica", () => {
    expect(problemsOf({ runtime: "swarm", serverReplicas: "0" })).toEqual([
      "serverReplicas: 0 is out of range; it must be at least 1",
    ]);
  });

  it("refuses publishPort on a swarm, saying why and what to do instead", () => {
    const [problem, ...rest] = problemsOf({ runtime: "swarm", publishPort: "8443" });
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^publishPort: 8443 cannot be used with runtime swarm: .*cannot bind 127\.0\.0\.1; leave it 0/,
    );
    expect(parse({ runtime: "docker", publishPort: "8443" }).publishPort).toBe(8443);
  });

  it("refuses workloads on a swarm, and takes them on docker", () => {
    const workloads = JSON.stringify([{ name: "hello", role: "server", image: "demo", port: 8080 }]);
    expect(problemsOf({ runtime: "swarm", workloads })).toEqual([
      "workloads: cannot be used with runtime swarm yet: workloads run as containers on one Docker engine or as pods on Kubernetes; use runtime docker or kubernetes for workloads",
    ]);
    expect(parse({ runtime: "docker", workloads }).workloads).toHaveLength(1);
  });
});

describe("kubernetes configuration", () => {
  const kube = (values: Record<string, string> = {}) => parse({ runtime: "kubernetes", ...values });
  const workload = (fields: Record<string, unknown>) =>
    JSON.stringify([{ name: "hello", role: "server", image: "demo", port: 8080, ...fields }]);

  it("targets the provider's default kubeconfig and context, a namespace of the stack's own, and the local cluster's images", () => {
    expect(kube()).toMatchObject({
      runtime: "kubernetes",
      serverReplicas: 2,
      kubernetes: {
        kubeconfig: undefined,
        context: undefined,
        namespace: "mtls-pki-swarm",
        image: undefined,
      },
    });
    expect(
      kube({
        kubeconfig: "/etc/kube/prod.yaml",
        kubernetesContext: "prod",
        namespace: "payments",
        kubernetesImage: "registry.example.com/mtls-service:1.2",
        serverReplicas: "3",
      }),
    ).toMatchObject({
      serverReplicas: 3,
      kubernetes: {
        kubeconfig: "/etc/kube/prod.yaml",
        context: "prod",
        namespace: "payments",
        image: "registry.example.com/mtls-service:1.2",
      },
    });
  });

  it("refuses fewer than one server pod", () => {
    expect(problemsOf({ runtime: "kubernetes", serverReplicas: "0" })).toEqual([
      "serverReplicas: 0 is out of range; it must be at least 1",
    ]);
  });

  it("refuses a namespace Kubernetes would refuse, and an image that is no reference", () => {
    expect(problemsOf({ runtime: "kubernetes", namespace: "Payments_1" })).toEqual([
      'namespace: "Payments_1" is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit)',
    ]);
    expect(problemsOf({ runtime: "kubernetes", kubernetesImage: "Registry/Image Name" })).toEqual([
      'kubernetesImage: "Registry/Image Name" is not an image reference (registry/name:tag or registry/name@sha256:...)',
    ]);
  });

  it("refuses publishPort, saying how to reach the server instead", () => {
    const [problem, ...rest] = problemsOf({ runtime: "kubernetes", publishPort: "8443" });
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^publishPort: 8443 cannot be used with runtime kubernetes: .*kubectl port-forward/,
    );
  });

  it("takes workloads, and refuses each workload field a pod cannot honour in one line naming it", () => {
    expect(kube({ workloads: workload({}) }).workloads).toEqual([
      { name: "hello", role: "server", image: "demo", port: 8080, protocol: "http" },
    ]);
    const problems = problemsOf({
      runtime: "kubernetes",
      workloadSubnetPool: "10.200.0.0/16",
      workloads: workload({ subnet: "10.200.0.0/28", egress: true, user: "app" }),
    });
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "workloadSubnetPool",
      "workloads[0].subnet",
      "workloads[0].egress",
      "workloads[0].user",
    ]);
    for (const problem of problems) expect(problem).toMatch(/kubernetes/i);
  });

  it("refuses the demo app's local image when the cluster pulls from a registry", () => {
    expect(
      problemsOf({
        runtime: "kubernetes",
        kubernetesImage: "registry.example.com/mtls-service:1",
        workloads: workload({ image: "mtls-demo-app:local" }),
      }),
    ).toEqual([
      "workloads[0].image: mtls-demo-app:local is built on this machine and loaded only into the local cluster; with kubernetesImage set (a real cluster), push the demo app to your registry and name that reference here",
    ]);
  });

  it("leaves the docker runtime's own keys alone", () => {
    expect(parse({ publishPort: "8443", workloads: workload({ egress: true }) }).workloads[0]?.egress).toBe(
      true,
    );
  });
});
