/**
 * The stack keys of `runtime: kubernetes` (where the cluster is, which namespace, which image), and
 * the keys of the other runtimes that mean nothing on Kubernetes, refused in one line each. Read by
 * config.ts as part of its one-go report (each problem names the key; ConfigError names the file).
 *
 *   mtls-pki:runtime: kubernetes
 *   mtls-pki:kubeconfig: ~/.kube/prod.yaml          # empty: $KUBECONFIG, else ~/.kube/config
 *   mtls-pki:kubernetesContext: prod                # empty: the kubeconfig's current context
 *   mtls-pki:namespace: payments-mtls               # empty: mtls-pki-<stack>
 *   mtls-pki:kubernetesImage: registry.example.com/mtls-service@sha256:...   # empty: local cluster
 */
import { DEMO_APP_IMAGE, WORKLOADS_KEY, type WorkloadConfig } from "./workloads-config.ts";

export interface KubernetesConfig {
  /** Path of the kubeconfig file; undefined = the provider's default ($KUBECONFIG, ~/.kube/config). */
  kubeconfig: string | undefined;
  /** The kubeconfig context; undefined = its current context. */
  context: string | undefined;
  /** The namespace every object of the stack lives in (created and deleted by the stack). */
  namespace: string;
  /**
   * The services' image as the cluster pulls it from a registry; undefined = built here and loaded
   * into the local cluster's own containerd (scripts/kubernetes/load-image.sh), no registry.
   */
  image: string | undefined;
}

export const KUBERNETES_CONFIG_DEFAULTS = {
  kubeconfig: "",
  kubernetesContext: "",
  namespace: "",
  kubernetesImage: "",
} as const;

/** The namespace a stack gets unless `namespace` names one: one per stack, so stacks never share. */
export function defaultNamespace(stack: string): string {
  const name = `mtls-pki-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`.slice(0, 63);
  return name.replace(/-+$/, "");
}

// RFC 1123 label, as the API server checks a namespace's name.
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// A reference a container runtime pulls: [registry/]path[:tag][@sha256:digest], lowercase path.
const IMAGE_REFERENCE = /^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** Reads a string key, trimmed, or the fallback when unset (config.ts's reader). */
type StringReader = (key: string, fallback: string) => string;

/** Reads the kubernetes keys (whatever the runtime: a bad value is worth saying at once). */
export function parseKubernetesConfig(
  read: StringReader,
  stack: string,
  problems: string[],
): KubernetesConfig {
  const reader = { string: read };
  const kubeconfig = reader.string("kubeconfig", KUBERNETES_CONFIG_DEFAULTS.kubeconfig);
  const context = reader.string("kubernetesContext", KUBERNETES_CONFIG_DEFAULTS.kubernetesContext);
  const namespaceSet = reader.string("namespace", KUBERNETES_CONFIG_DEFAULTS.namespace);
  if (namespaceSet !== "" && !NAMESPACE.test(namespaceSet)) {
    problems.push(
      `namespace: ${JSON.stringify(namespaceSet)} is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit)`,
    );
  }
  const image = reader.string("kubernetesImage", KUBERNETES_CONFIG_DEFAULTS.kubernetesImage);
  if (image !== "" && !IMAGE_REFERENCE.test(image)) {
    problems.push(
      `kubernetesImage: ${JSON.stringify(image)} is not an image reference (registry/name:tag or registry/name@sha256:...)`,
    );
  }
  return {
    kubeconfig: kubeconfig === "" ? undefined : kubeconfig,
    context: context === "" ? undefined : context,
    namespace: namespaceSet === "" ? defaultNamespace(stack) : namespaceSet,
    image: image === "" ? undefined : image,
  };
}

/**
 * What the other runtimes take and Kubernetes cannot honour, one line each, saying what to do
 * instead. (`serverReplicas`, `baseImage` and the PKI keys apply as they are.)
 */
export function kubernetesProblems(given: {
  publishPort: number;
  workloads: readonly WorkloadConfig[];
  workloadSubnetPoolSet: boolean;
  image?: string | undefined;
}): string[] {
  const problems: string[] = [];
  if (given.publishPort !== 0) {
    problems.push(
      `publishPort: ${given.publishPort} cannot be used with runtime kubernetes: the server is a Service inside the cluster; leave it 0 and call it from a pod, or forward a port with \`kubectl port-forward\``,
    );
  }
  if (given.workloadSubnetPoolSet) {
    problems.push(
      "workloadSubnetPool: cannot be used with runtime kubernetes: a workload is one pod (its app and sidecars share the pod's network), there is no private network to give a subnet; remove the key",
    );
  }
  given.workloads.forEach((workload, index) => {
    const at = `${WORKLOADS_KEY}[${index}]`;
    if (workload.subnet !== undefined) {
      problems.push(
        `${at}.subnet: cannot be used with runtime kubernetes: the app and its sidecars share one pod's network; remove it`,
      );
    }
    if (workload.egress !== undefined) {
      problems.push(
        `${at}.egress: cannot be used with runtime kubernetes: what a pod reaches is the cluster's network policy (a NetworkPolicy, where the cluster's network plugin enforces one); remove it`,
      );
    }
    if (workload.user !== undefined && workload.user !== "" && !/^\d+(:\d+)?$/.test(workload.user)) {
      problems.push(
        `${at}.user: ${JSON.stringify(workload.user)} is a user name; Kubernetes runs containers as numeric ids (runAsUser): give uid:gid, or "" for the image's own numeric user`,
      );
    }
    if (workload.image === DEMO_APP_IMAGE && given.image !== undefined) {
      problems.push(
        `${at}.image: ${DEMO_APP_IMAGE} is built on this machine and loaded only into the local cluster; with kubernetesImage set (a real cluster), push the demo app to your registry and name that reference here`,
      );
    }
  });
  return problems;
}
