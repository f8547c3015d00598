/**
 * The @pulumi/kubernetes resource types the emulation models, with what the plugin knows of each:
 * where it lives in the API, whether it is namespaced, which top-level fields its SDK class sends,
 * and which fields force a replacement (pulumi-kubernetes provider/pkg/provider/diff.go,
 * `forceNew`: `.metadata.name` and `.metadata.namespace` for every kind, plus the kind's own).
 * Any other type is refused.
 */
export const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
export const SECRET_TYPE = "kubernetes:core/v1:Secret";
export const CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";

export interface KindInfo {
  apiVersion: string;
  kind: string;
  /** The collection's path: `/api/v1` or `/apis/apps/v1`. */
  groupPath: string;
  plural: string;
  namespaced: boolean;
  /** Top-level input fields the SDK class sends (the API server validates what is inside). */
  fields: readonly string[];
  /** The kind's own force-new paths (diff.go), `[*]` for any array element. */
  forceNew: readonly string[];
}

const LABEL_SELECTOR = [
  ".spec.selector",
  ".spec.selector.matchExpressions",
  ".spec.selector.matchExpressions.key",
  ".spec.selector.matchExpressions.operator",
  ".spec.selector.matchExpressions.values",
  ".spec.selector.matchLabels",
];

export const KINDS: Readonly<Record<string, KindInfo>> = {
  [NAMESPACE_TYPE]: {
    apiVersion: "v1",
    kind: "Namespace",
    groupPath: "/api/v1",
    plural: "namespaces",
    namespaced: false,
    fields: ["apiVersion", "kind", "metadata", "spec"],
    forceNew: [],
  },
  [SECRET_TYPE]: {
    apiVersion: "v1",
    kind: "Secret",
    groupPath: "/api/v1",
    plural: "secrets",
    namespaced: true,
    fields: ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"],
    // `.type` always; `.data` and `.stringData` unless the provider's enableSecretMutable is set
    // (forceNewProperties; see secretForceNew in diff.ts).
    forceNew: [".type"],
  },
  [CONFIGMAP_TYPE]: {
    apiVersion: "v1",
    kind: "ConfigMap",
    groupPath: "/api/v1",
    plural: "configmaps",
    namespaced: true,
    fields: ["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"],
    // `.data` and `.binaryData` unless enableConfigMapMutable is set (see diff.ts).
    forceNew: [],
  },
  [SERVICE_TYPE]: {
    apiVersion: "v1",
    kind: "Service",
    groupPath: "/api/v1",
    plural: "services",
    namespaced: true,
    fields: ["apiVersion", "kind", "metadata", "spec"],
    forceNew: [".spec.clusterIP"],
  },
  [DEPLOYMENT_TYPE]: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    groupPath: "/apis/apps/v1",
    plural: "deployments",
    namespaced: true,
    fields: ["apiVersion", "kind", "metadata", "spec"],
    forceNew: LABEL_SELECTOR,
  },
};

export function kindOf(type: string): KindInfo {
  const info = KINDS[type];
  if (!info) throw new Error(`kubernetes emulation: resource type ${type} is not emulated`);
  return info;
}

/** The object's URL path; `name` omitted for the collection. */
export function objectPath(info: KindInfo, namespace: string | undefined, name?: string): string {
  const ns = info.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? "default")}` : "";
  return `${info.groupPath}${ns}/${info.plural}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

/** The plugin's resource id: `namespace/name` for namespaced objects, `name` otherwise (fqObjName). */
export function objectId(info: KindInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${namespace ?? "default"}/${name}` : name;
}
