/**
 * The kubeconfig a kubernetes provider instance talks through, read as the plugin reads it
 * (provider.go Configure, kubeconfig.go): `kubeconfig` is a path or the file's contents; the
 * `context` and `cluster` provider inputs override the current context and its cluster; the
 * default namespace is the provider's `namespace`, else the context's, else "default".
 *
 * Only what a local or ordinary cluster needs is read: the server URL, its CA (`-data` or file),
 * and a client certificate and key or a bearer token. Exec plugins, auth providers and proxies are
 * refused by name.
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";

export interface Connection {
  /** e.g. https://127.0.0.1:6443 (no trailing slash). */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipVerify: boolean;
  /** The namespace namespaced objects without one go to. */
  defaultNamespace: string;
}

export interface ProviderSettings {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  namespace?: string;
}

/** A `clusters:` / `users:` / `contexts:` entry: its name and its block. */
interface Named {
  name: string;
  [key: string]: unknown;
}

type Block = Record<string, unknown>;

function expandHome(p: string): string {
  return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/** The file's text and folder when `pathOrContents` names an existing file, else the text itself. */
function loadText(pathOrContents: string): { text: string; dir: string } {
  const candidate = expandHome(pathOrContents);
  if (!pathOrContents.includes("\n") && existsSync(candidate)) {
    return { text: readFileSync(candidate, "utf8"), dir: path.dirname(path.resolve(candidate)) };
  }
  return { text: pathOrContents, dir: process.cwd() };
}

function entry(list: unknown, name: string, field: "cluster" | "user" | "context", what: string): Block {
  const found = ((list ?? []) as Named[]).find((item) => item.name === name);
  if (!found) throw new Error(`kubeconfig: no ${what} named "${name}"`);
  return (found[field] ?? {}) as Block;
}

function fileOrData(block: Block, key: string, dir: string): Buffer | undefined {
  const data = block[`${key}-data`];
  if (typeof data === "string" && data !== "") return Buffer.from(data, "base64");
  const file = block[key];
  if (typeof file === "string" && file !== "") return readFileSync(path.resolve(dir, expandHome(file)));
  return undefined;
}

/**
 * Resolves a connection. `ambient` is what the plugin would find without a `kubeconfig` input
 * ($KUBECONFIG or ~/.kube/config); the emulation is handed it explicitly so that a test never
 * reaches a developer's own cluster. Throws one line naming what is missing.
 */
export function resolveConnection(settings: ProviderSettings, ambient: string | undefined): Connection {
  const source = settings.kubeconfig || ambient;
  if (!source) {
    throw new Error(
      "no kubeconfig: set the provider's `kubeconfig` (or `kubernetes:kubeconfig` in the stack config), or give the emulation one (createKubernetesProvider({ kubeconfig }))",
    );
  }
  const { text, dir } = loadText(source);
  let doc: Block;
  try {
    doc = (parse(text) ?? {}) as Block;
  } catch (err) {
    throw new Error(`kubeconfig: not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  const contextName = settings.context || (doc["current-context"] as string | undefined);
  if (!contextName) throw new Error("kubeconfig: no current-context and no `context` given");
  const context = entry(doc.contexts, contextName, "context", "context");
  const clusterName = settings.cluster || (context.cluster as string);
  const cluster = entry(doc.clusters, clusterName, "cluster", "cluster");
  const user = context.user ? entry(doc.users, context.user as string, "user", "user") : {};
  for (const unsupported of ["exec", "auth-provider", "username"]) {
    if (user[unsupported] !== undefined) {
      throw new Error(`kubeconfig: user "${String(context.user)}": ${unsupported} is not emulated`);
    }
  }
  if (cluster["proxy-url"] !== undefined)
    throw new Error(`kubeconfig: cluster "${clusterName}": proxy-url is not emulated`);
  const server = String(cluster.server ?? "").replace(/\/+$/, "");
  if (!server) throw new Error(`kubeconfig: cluster "${clusterName}" has no server`);
  return {
    server,
    ca: fileOrData(cluster, "certificate-authority", dir),
    cert: fileOrData(user, "client-certificate", dir),
    key: fileOrData(user, "client-key", dir),
    token: typeof user.token === "string" ? user.token : undefined,
    insecureSkipVerify: cluster["insecure-skip-tls-verify"] === true,
    defaultNamespace: settings.namespace || (context.namespace as string | undefined) || "default",
  };
}

/**
 * What DiffConfig compares to decide whether a changed kubeconfig names another cluster
 * (getActiveClusterFromConfig): the active cluster's server and CA. Undefined when unreadable.
 */
export function activeClusterKey(
  settings: ProviderSettings,
  ambient: string | undefined,
): string | undefined {
  try {
    const c = resolveConnection(settings, ambient);
    return JSON.stringify([c.server, c.ca?.toString("base64") ?? "", c.insecureSkipVerify]);
  } catch {
    return undefined;
  }
}

/** The default namespace when the kubeconfig cannot be read (preview without a cluster). */
export function defaultNamespaceOf(settings: ProviderSettings, ambient: string | undefined): string {
  try {
    return resolveConnection(settings, ambient).defaultNamespace;
  } catch {
    return settings.namespace || "default";
  }
}
