/**
 * The emulated kubernetes provider (pkg "kubernetes") behind the engine's seam: Namespace, Secret,
 * ConfigMap, Service and apps/v1 Deployment realised on a real API server with the behaviour of
 * @pulumi/kubernetes v4 (README.md beside the emulation: what it models, what it refuses), and the
 * `pulumi:providers:kubernetes` provider resource (kubeconfig, context, cluster, namespace,
 * enableSecretMutable, enableConfigMapMutable).
 *
 *   const kubernetes = createKubernetesProvider({ kubeconfig: cluster.kubeconfig });
 *   const engine = new EmulatedEngine([new TlsProvider(), kubernetes]);
 *   ... run the program ...
 *   await cleanupKubernetesRun(cluster.kubeconfig, kubernetes.runId);
 *
 * `kubeconfig` stands for the ambient kubeconfig the plugin would read ($KUBECONFIG,
 * ~/.kube/config), so that a test names its cluster and never reaches a developer's own.
 */
import type { EmulatedProvider, Inputs, ProviderConfig } from "../engine/provider.ts";
import { containsUnknown } from "../engine/values.ts";
import { KubeApi, KubeUnreachableError } from "./api.ts";
import { checkObject } from "./check.ts";
import { diffObject, type MutableOptions } from "./diff.ts";
import { kindOf, SECRET_TYPE } from "./kinds.ts";
import {
  activeClusterKey,
  defaultNamespaceOf,
  type ProviderSettings,
  resolveConnection,
} from "./kubeconfig.ts";
import { createObject, deleteObject, type ObjectContext, updateObject } from "./objects.ts";

export interface KubernetesProviderOptions {
  /** Path or contents: the kubeconfig the default provider (and a Provider without one) uses. */
  kubeconfig?: string;
  /** The value of the run label on every object made (default: a fresh id). */
  runId?: string;
}

export interface KubernetesProvider extends EmulatedProvider {
  readonly runId: string;
}

/** Provider inputs (and `kubernetes:*` stack config keys) the emulation models. */
const MODELLED_SETTINGS = [
  "kubeconfig",
  "context",
  "cluster",
  "namespace",
  "enableServerSideApply",
  "enableSecretMutable",
  "enableConfigMapMutable",
  "suppressDeprecationWarnings",
  "suppressHelmHookWarnings",
];

/** The SDK sends booleans JSON-encoded ("true"); stack config holds strings too. */
function flag(v: unknown): boolean {
  return v === true || v === "true";
}

interface Settings extends ProviderSettings, MutableOptions {}

function settingsOf(where: string, inputs: Inputs): Settings {
  const extra = Object.keys(inputs).filter((k) => !MODELLED_SETTINGS.includes(k) && inputs[k] !== undefined);
  if (extra.length > 0)
    throw new Error(`kubernetes emulation: ${where}: input(s) not emulated: ${extra.join(", ")}`);
  if (inputs.enableServerSideApply !== undefined && !flag(inputs.enableServerSideApply)) {
    throw new Error(
      `kubernetes emulation: ${where}: enableServerSideApply false (client-side apply) is not emulated`,
    );
  }
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return {
    kubeconfig: text(inputs.kubeconfig),
    context: text(inputs.context),
    cluster: text(inputs.cluster),
    namespace: text(inputs.namespace),
    enableSecretMutable: flag(inputs.enableSecretMutable),
    enableConfigMapMutable: flag(inputs.enableConfigMapMutable),
  };
}

function providerName(config: ProviderConfig | undefined): string {
  return config?.urn
    ? `provider ${config.urn.split("::").pop()}`
    : "the default provider (kubernetes:* config)";
}

export function createKubernetesProvider(options: KubernetesProviderOptions = {}): KubernetesProvider {
  const runId = options.runId ?? `run-${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 8)}`;
  const ambient = options.kubeconfig;
  /** One client per cluster connection, checked once for reachability (Configure's schema load). */
  const clients = new Map<string, Promise<KubeApi>>();

  const connect = (settings: Settings): Promise<KubeApi> => {
    const key = JSON.stringify([
      settings.kubeconfig ?? ambient,
      settings.context,
      settings.cluster,
      settings.namespace,
    ]);
    let client = clients.get(key);
    if (!client) {
      client = (async () => {
        let api: KubeApi;
        try {
          api = new KubeApi(resolveConnection(settings, ambient));
        } catch (err) {
          throw new Error(`configured Kubernetes cluster is unreachable: ${(err as Error).message}`);
        }
        try {
          await api.request("GET", "/version");
        } catch (err) {
          const cause =
            err instanceof KubeUnreachableError
              ? err.message
              : `the API server answered: ${(err as Error).message}`;
          throw new Error(
            `configured Kubernetes cluster is unreachable: unable to load schema information from the API server: ${cause}`,
          );
        }
        return api;
      })();
      // A failed connection is tried again by the next operation (the cluster may be starting).
      client.catch(() => clients.delete(key));
      clients.set(key, client);
    }
    return client;
  };

  const contextFor = (config: ProviderConfig | undefined): { ctx: ObjectContext; settings: Settings } => {
    const settings = settingsOf(providerName(config), config?.inputs ?? {});
    const defaultNamespace = defaultNamespaceOf(settings, ambient);
    return { settings, ctx: { api: () => connect(settings), defaultNamespace, runId } };
  };

  return {
    pkg: "kubernetes",
    runId,
    // The Secret class sets additionalSecretOutputs ["data", "stringData"]; `__inputs` holds the
    // object as sent (a Secret's data, any secret input), which the plugin keeps secret too.
    secretOutputs(type) {
      kindOf(type);
      return type === SECRET_TYPE ? ["data", "stringData", "__inputs"] : ["__inputs"];
    },
    diff(req) {
      const { settings, ctx } = contextFor(req.provider);
      const oldChecked = (req.oldState.__inputs ?? {}) as Inputs;
      const checked = checkObject({
        type: req.type,
        name: req.name,
        inputs: req.newInputs,
        oldInputs: oldChecked,
        defaultNamespace: ctx.defaultNamespace,
      });
      return diffObject(req.type, oldChecked, checked, settings);
    },
    create: (req) => createObject(req, contextFor(req.provider).ctx),
    update: (req) => updateObject(req, contextFor(req.provider).ctx),
    delete: (req) => deleteObject(req, contextFor(req.provider).ctx),
    checkConfig(name, inputs) {
      settingsOf(`provider "${name}"`, inputs);
    },
    // DiffConfig: a changed kubeconfig, context or cluster replaces the provider when it names
    // another cluster (or is not known yet); any other change reconfigures it in place.
    diffConfig(req) {
      const keys = [...new Set([...Object.keys(req.oldInputs), ...Object.keys(req.newInputs)])];
      const changed = keys
        .filter((k) => JSON.stringify(req.oldInputs[k]) !== JSON.stringify(req.newInputs[k]))
        .sort();
      if (changed.length === 0) return { kind: "none" };
      const identity = changed.filter((k) => ["kubeconfig", "context", "cluster"].includes(k));
      if (identity.some((k) => containsUnknown(req.newInputs[k]))) {
        return { kind: "replace", changed, deleteBeforeReplace: false };
      }
      const before = activeClusterKey(settingsOf("provider", req.oldInputs), ambient);
      const after = activeClusterKey(settingsOf("provider", req.newInputs), ambient);
      if (identity.length > 0 && before !== undefined && after !== undefined && before !== after) {
        return { kind: "replace", changed, deleteBeforeReplace: false };
      }
      return { kind: "update", changed };
    },
  };
}
