/**
 * The local single-node Kubernetes cluster (scripts/kubernetes/cluster.sh) as the Kubernetes tests
 * use it: its admin kubeconfig and kubectl by explicit path (never $KUBECONFIG, so a developer's
 * own cluster is never touched), a way to load a Docker image into it, and namespaces of a test's
 * own.
 *
 * There is no skipping: the Kubernetes tests run only under `npm run test:kubernetes`, which is
 * asked for on purpose, so when no cluster answers `localCluster()` throws, saying what to run.
 *
 *   const cluster = await localCluster();
 *   await cluster.loadImage("mtls-node-base:24");
 *   const ns = await cluster.createNamespace("svc");   // delete with cluster.deleteNamespace(ns)
 *   await cluster.run(["-n", ns, "apply", "-f", "-"], manifest);
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { eventually } from "./eventually.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLUSTER_SCRIPT = path.join(ROOT, "scripts/kubernetes/cluster.sh");
const LOAD_IMAGE_SCRIPT = path.join(ROOT, "scripts/kubernetes/load-image.sh");

export interface LocalCluster {
  /** The cluster admin's kubeconfig (client certificate inline). */
  kubeconfig: string;
  /** The kubectl built for the cluster (its own version). */
  kubectl: string;
  /** Copies an image from the local Docker engine into the cluster (pods: `imagePullPolicy: Never`). */
  loadImage(ref: string): Promise<void>;
  /** Runs kubectl with the admin kubeconfig; resolves to its stdout, rejects with its stderr. */
  run(args: string[], input?: string): Promise<string>;
  /**
   * Creates a namespace named `<prefix>-<random>` and returns its name once its `default`
   * ServiceAccount exists (the API server refuses pods in a namespace until then).
   */
  createNamespace(prefix: string): Promise<string>;
  /** Deletes a namespace and waits until it is gone (its pods stopped). */
  deleteNamespace(name: string): Promise<void>;
  /**
   * Kills one container with SIGKILL through the cluster's containerd, as an OOM kill or a crash
   * would end it; `id` as a pod's status gives it (`containerd://<id>`) or bare.
   */
  killContainer(id: string): Promise<void>;
  /**
   * Stops the kubelet and starts it again (`cluster.sh restart kubelet`), resolving once the node
   * is Ready again. The pods' containers keep running meanwhile, as on a real node.
   */
  restartKubelet(): Promise<void>;
}

/** Where the cluster keeps its state (as cluster.sh: MTLS_K8S_STATE). */
export function clusterState(): string {
  return process.env.MTLS_K8S_STATE ?? "/var/lib/mtls-pki-k8s";
}

/** The socket of the cluster's own containerd (as scripts/kubernetes/lib/common.sh). */
function containerdSocket(): string {
  return path.join(process.env.MTLS_K8S_RUN ?? "/run/mtls-pki-k8s", "containerd.sock");
}

/** Runs a script or tool; rejects with one line: what ran and its stderr. */
async function runOrExplain(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    return (await run(file, args, { env })).stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`${path.basename(file)} ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
  }
}

function kubectlRunner(kubectl: string, kubeconfig: string) {
  return async (args: string[], input?: string): Promise<string> => {
    const child = run(kubectl, ["--kubeconfig", kubeconfig, ...args], {
      env: { ...process.env, KUBECONFIG: "" },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      return (await child).stdout;
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
      throw new Error(`kubectl ${args.join(" ")}: ${stderr || (error as Error).message}`);
    }
  };
}

/** The running local cluster; throws one line naming the fix when none answers. */
export async function localCluster(): Promise<LocalCluster> {
  const state = clusterState();
  const kubeconfig = path.join(state, "admin.kubeconfig");
  const kubectl = path.join(state, "bin", "kubectl");
  const start = `start it with \`sudo ${path.relative(process.cwd(), CLUSTER_SCRIPT) || CLUSTER_SCRIPT} up\``;
  if (!existsSync(kubeconfig) || !existsSync(kubectl)) {
    throw new Error(`no local Kubernetes cluster: ${kubeconfig} or ${kubectl} is missing; ${start}`);
  }
  const kube = kubectlRunner(kubectl, kubeconfig);
  try {
    const ready = await kube(["--request-timeout=5s", "get", "--raw", "/readyz"]);
    if (ready.trim() !== "ok") throw new Error(`/readyz answered ${JSON.stringify(ready.trim())}`);
  } catch (error) {
    throw new Error(`the local Kubernetes cluster does not answer (${(error as Error).message}); ${start}`);
  }

  return {
    kubeconfig,
    kubectl,
    run: kube,
    async loadImage(ref) {
      await runOrExplain(LOAD_IMAGE_SCRIPT, [ref], { ...process.env, MTLS_K8S_STATE: state });
    },
    async createNamespace(prefix) {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await kube(["create", "namespace", name]);
      await eventually(
        () => kube(["-n", name, "get", "serviceaccount", "default", "-o", "name"]),
        undefined,
        30_000,
      );
      return name;
    },
    async deleteNamespace(name) {
      await kube(["delete", "namespace", name, "--wait=true", "--timeout=120s", "--ignore-not-found"]);
    },
    async killContainer(id) {
      const bare = id.replace(/^containerd:\/\//, "");
      await runOrExplain("ctr", [
        "--address",
        containerdSocket(),
        "--namespace",
        "k8s.io",
        "tasks",
        "kill",
        "--signal",
        "SIGKILL",
        bare,
      ]);
    },
    async restartKubelet() {
      await runOrExplain(CLUSTER_SCRIPT, ["restart", "kubelet"], { ...process.env, MTLS_K8S_STATE: state });
    },
  };
}

/** Waits until a pod with `restartPolicy: Never` has ended, then returns its phase and its logs. */
export async function endedPod(
  cluster: LocalCluster,
  namespace: string,
  name: string,
): Promise<{ phase: string; logs: string }> {
  const phase = await eventually(
    () => cluster.run(["-n", namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}"]),
    (value) => value === "Succeeded" || value === "Failed",
    120_000,
  );
  return { phase, logs: await cluster.run(["-n", namespace, "logs", name]) };
}
