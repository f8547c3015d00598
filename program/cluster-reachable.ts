/**
 * Before the program declares anything on Kubernetes, two questions to the API server where the
 * stack's kubeconfig points, each answered in one clear line rather than by the provider later,
 * once per object, in its own words:
 *
 * 1. Does an API server answer? It reads the kubeconfig the provider would read (the stack's
 *    `kubeconfig`, else the first file of $KUBECONFIG, else ~/.kube/config), takes the context
 *    (`kubernetesContext`, else the current one) and its cluster's `server`, and makes one HTTPS
 *    request (GET /version): any HTTP answer, even 401 or 403, means an API server is there. The
 *    cluster's CA is used when the kubeconfig has one. If none answers: the connection's own error,
 *    then one line saying what to set.
 * 2. Is the stack's namespace someone else's? The stack creates its namespace and deletes it on
 *    `destroy`, with everything in it: a namespace that exists and is not labelled as this stack's
 *    (`mtls-pki/owner`) is refused, naming who owns it. Asked with the context's user (a client
 *    certificate or a token, inline or from a file); a user the kubeconfig gets another way (an
 *    exec plugin) or one not allowed to read namespaces leaves this to the provider.
 *
 * Credentials are only sent to the API server, never printed.
 */
import { readFileSync } from "node:fs";
import https from "node:https";
import { homedir } from "node:os";
import path from "node:path";
import { parse } from "yaml";

export interface ClusterTarget {
  /** The kubeconfig file; undefined = the provider's default. */
  kubeconfig: string | undefined;
  context: string | undefined;
}

/** The namespace the stack deploys into, and the owner label value its own namespace carries. */
export interface NamespaceClaim {
  namespace: string;
  owner: string;
  ownerLabel: string;
}

type Named<T> = { name: string } & T;
interface Kubeconfig {
  "current-context"?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{
    cluster?: {
      server?: string;
      "certificate-authority-data"?: string;
      "certificate-authority"?: string;
      "insecure-skip-tls-verify"?: boolean;
    };
  }>[];
  users?: Named<{
    user?: {
      "client-certificate-data"?: string;
      "client-key-data"?: string;
      "client-certificate"?: string;
      "client-key"?: string;
      token?: string;
      tokenFile?: string;
    };
  }>[];
}

/** The file the provider reads: the stack's, else $KUBECONFIG's first, else ~/.kube/config. */
export function kubeconfigPath(configured: string | undefined, env = process.env): string {
  if (configured !== undefined) return configured.replace(/^~(?=\/|$)/, homedir());
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((entry) => entry !== "");
  return fromEnv ?? path.join(homedir(), ".kube", "config");
}

interface Cluster {
  context: string;
  server: string;
  /** TLS options: the CA, and the user's client certificate when it has one. */
  tls: https.RequestOptions;
  /** The user's bearer token, when it has one. */
  token: string | undefined;
  /** Whether the kubeconfig gives a credential this check can use. */
  credentials: boolean;
}

/** The API server's URL, CA and user for the context, or throws saying what is missing. */
export function clusterOf(file: string, contextName: string | undefined): Cluster {
  const config = (parse(readFileSync(file, "utf8")) ?? {}) as Kubeconfig;
  const name = contextName ?? config["current-context"];
  if (!name) throw new Error(`${file} names no current-context`);
  const context = config.contexts?.find((c) => c.name === name);
  if (!context) throw new Error(`${file} has no context ${JSON.stringify(name)}`);
  const cluster = config.clusters?.find((c) => c.name === context.context?.cluster)?.cluster;
  if (!cluster?.server)
    throw new Error(`${file}: context ${JSON.stringify(name)} names no cluster with a server`);
  const user = config.users?.find((u) => u.name === context.context?.user)?.user ?? {};
  const relative = (f: string) => readFileSync(path.resolve(path.dirname(file), f));
  const inlineOrFile = (data: string | undefined, f: string | undefined) =>
    data ? Buffer.from(data, "base64") : f ? relative(f) : undefined;
  const ca = inlineOrFile(cluster["certificate-authority-data"], cluster["certificate-authority"]);
  const cert = inlineOrFile(user["client-certificate-data"], user["client-certificate"]);
  const key = inlineOrFile(user["client-key-data"], user["client-key"]);
  const token = user.token ?? (user.tokenFile ? relative(user.tokenFile).toString("utf8").trim() : undefined);
  return {
    context: name,
    server: cluster.server,
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    },
    token,
    credentials: (cert !== undefined && key !== undefined) || token !== undefined,
  };
}

interface Answer {
  status: number;
  body: string;
}

function get(cluster: Cluster, route: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      new URL(route, cluster.server),
      {
        ...cluster.tls,
        ...(cluster.token ? { headers: { authorization: `Bearer ${cluster.token}` } } : {}),
        timeout: timeoutMs,
        agent: false,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}

/** Who owns an existing namespace, by its label; undefined when it is free or this stack's. */
async function namespaceConflict(
  cluster: Cluster,
  claim: NamespaceClaim,
  timeoutMs: number,
): Promise<string | undefined> {
  if (!cluster.credentials) return undefined;
  const answer = await get(cluster, `/api/v1/namespaces/${encodeURIComponent(claim.namespace)}`, timeoutMs);
  // 404: free; 401/403: this user may not tell, the provider will find out.
  if (answer.status !== 200) return undefined;
  const labels = (JSON.parse(answer.body) as { metadata?: { labels?: Record<string, string> } }).metadata
    ?.labels;
  const owner = labels?.[claim.ownerLabel];
  if (owner === claim.owner) return undefined;
  return owner === undefined
    ? "exists and is no mtls-pki stack's (it has no mtls-pki/owner label)"
    : `exists and belongs to the stack ${owner}`;
}

/**
 * undefined when an API server answers (and the namespace is free or this stack's), else the
 * lines to print. `stackFile` names where the keys go.
 */
export async function clusterProblem(
  target: ClusterTarget,
  stackFile: string,
  claim?: NamespaceClaim,
  timeoutMs = 5000,
): Promise<string | undefined> {
  const file = kubeconfigPath(target.kubeconfig);
  const what = `set mtls-pki:kubeconfig (${stackFile}) to your cluster's kubeconfig file (and mtls-pki:kubernetesContext to its context), or start the local cluster: scripts/kubernetes/cluster.sh up`;
  let cluster: Cluster;
  try {
    cluster = clusterOf(file, target.context);
  } catch (error) {
    return `kubernetes: cannot use the kubeconfig ${file}: ${(error as Error).message}\n${what}`;
  }
  try {
    await get(cluster, "/version", timeoutMs);
  } catch (error) {
    const cause = (error as Error).message;
    return `kubernetes: no API server answers at ${cluster.server} (context ${JSON.stringify(cluster.context)} of ${file}): ${cause}\n${what}`;
  }
  if (!claim) return undefined;
  const conflict = await namespaceConflict(cluster, claim, timeoutMs).catch(() => undefined);
  return conflict === undefined
    ? undefined
    : `mtls-pki:namespace (${stackFile}): ${JSON.stringify(claim.namespace)} ${conflict}; this stack would take it over and delete it on destroy: name another namespace`;
}
