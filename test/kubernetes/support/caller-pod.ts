/**
 * Callers inside the cluster, as pods in the stack's namespace (restricted like the stack's own:
 * the namespace refuses anything else), running the services image's Node with a script of Node
 * built-ins only:
 *
 * - `startCallerPod`: calls `GET /v1/whoami` over mTLS in a loop, a new connection per call, and
 *   logs one JSON line per call (the server certificate's serial, fingerprint and issuer, the pod
 *   that answered, which credentials it used, or the error). Its credentials live in an in-memory
 *   emptyDir; `useCredentials` writes new ones there through `kubectl exec` (one file, renamed into
 *   place), so they count from the next call, as for a caller re-reading the stack's outputs.
 * - `callOnce`: one call from a new pod that exits, with given credentials (or none): what a
 *   stranger gets.
 *
 * The server's name resolves through the pod's /etc/hosts (`hostAliases`), as the stack's clients
 * do it. Every pod is the test's own; `stop()` deletes it, and the namespace's deletion would too.
 */
import { randomBytes } from "node:crypto";
import { eventually } from "../../support/eventually.ts";
import { endedPod, type LocalCluster } from "../../support/kubernetes-cluster.ts";
import { getJson, type Pod } from "./kubernetes-stack.ts";

const CALL = `
const fs = require("fs"), https = require("https");
const read = () => { try { return JSON.parse(fs.readFileSync("/creds/credentials.json", "utf8")); } catch { return undefined; } };
const once = (creds) => new Promise((resolve) => {
  const { version, certPem: cert, keyPem: key, caPem: ca } = creds;
  const log = (record) => console.log(JSON.stringify({ ...record, credentials: version, at: Date.now() }));
  const options = { ca, agent: false, timeout: 5000, ...(cert ? { cert, key } : {}) };
  const req = https.get(process.env.URL + "/v1/whoami", options, (res) => {
    const peer = res.socket.getPeerCertificate();
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      if (res.statusCode !== 200) log({ ok: false, error: "HTTP " + res.statusCode, body });
      else log({ ok: true, serial: peer.serialNumber.toUpperCase(), fingerprint256: peer.fingerprint256,
        issuer: peer.issuer.CN, servedBy: JSON.parse(body).servedBy });
      resolve();
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => { log({ ok: false, error: e.message, code: e.code }); resolve(); });
});
`;

const LOOP = `${CALL}
let stopped = false;
process.on("SIGTERM", () => { stopped = true; });
(async () => {
  while (!stopped) {
    const creds = read();
    if (creds) await once(creds);
    await new Promise((r) => setTimeout(r, creds ? 50 : 100));
  }
  process.exit(0);
})();
`;

const ONE_SHOT = `${CALL}
(async () => {
  let creds;
  while (!(creds = read())) await new Promise((r) => setTimeout(r, 100));
  await once(creds);
  process.exit(0);
})();
`;

/** Writes stdin to the credentials file, atomically (the image has Node, no shell). */
const WRITE_CREDENTIALS = `let t="";process.stdin.on("data",(c)=>t+=c).on("end",()=>{const fs=require("fs");fs.writeFileSync("/creds/next.json",t);fs.renameSync("/creds/next.json","/creds/credentials.json")})`;

export interface CallRecord {
  ok: boolean;
  serial?: string;
  fingerprint256?: string;
  issuer?: string;
  servedBy?: string;
  error?: string;
  code?: string;
  body?: string;
  credentials: number;
  at: number;
}

export interface Credentials {
  certPem?: string;
  keyPem?: string;
  caPem: string;
}

function podManifest(options: {
  name: string;
  namespace: string;
  image: string;
  server: { name: string; ip: string; port: number };
  script: string;
  env?: Record<string, string>;
  restartPolicy: "Always" | "Never";
}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: options.name, namespace: options.namespace, labels: { "mtls-e2e/role": "caller" } },
    spec: {
      restartPolicy: options.restartPolicy,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      hostAliases: [{ ip: options.server.ip, hostnames: [options.server.name] }],
      containers: [
        {
          name: "caller",
          image: options.image,
          imagePullPolicy: "Never",
          command: ["node", "-e", options.script],
          env: Object.entries({
            URL: `https://${options.server.name}:${options.server.port}`,
            ...options.env,
          }).map(([name, value]) => ({ name, value })),
          resources: { limits: { memory: "128Mi", cpu: "500m" }, requests: { memory: "32Mi", cpu: "10m" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "creds", mountPath: "/creds" }],
        },
      ],
      volumes: [{ name: "creds", emptyDir: { medium: "Memory" } }],
    },
  };
}

const parseCalls = (logs: string) =>
  logs
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as CallRecord);

export interface CallerPod {
  name: string;
  calls(): Promise<CallRecord[]>;
  /** New credentials, used from the next call on; resolves to their version once written. */
  useCredentials(credentials: Credentials): Promise<number>;
  /** Deletes the pod; resolves to every call it made. */
  stop(): Promise<CallRecord[]>;
}

/** What a caller pod needs: where it runs, what it calls, and as whom. */
export interface CallerPodOptions {
  namespace: string;
  image: string;
  server: { name: string; ip: string; port: number };
  credentials: Credentials;
}

/** Creates the pod and resolves once it runs. */
async function runPod(cluster: LocalCluster, namespace: string, manifest: ReturnType<typeof podManifest>) {
  await cluster.run(["apply", "-f", "-"], JSON.stringify(manifest));
  await eventually(
    () => getJson<Pod>(cluster, ["-n", namespace, "get", "pod", manifest.metadata.name]),
    (pod) => pod.status.phase === "Running",
    120_000,
  );
}

/** Writes credentials into the pod's in-memory volume through kubectl exec, never in the pod spec. */
async function writeCredentials(
  cluster: LocalCluster,
  namespace: string,
  name: string,
  text: string,
): Promise<void> {
  await cluster.run(
    ["-n", namespace, "exec", "-i", name, "-c", "caller", "--", "node", "-e", WRITE_CREDENTIALS],
    text,
  );
}

export async function startCallerPod(cluster: LocalCluster, options: CallerPodOptions): Promise<CallerPod> {
  const name = `caller-${randomBytes(3).toString("hex")}`;
  await runPod(
    cluster,
    options.namespace,
    podManifest({ ...options, name, script: LOOP, restartPolicy: "Always" }),
  );
  let version = 0;
  const calls = async () =>
    parseCalls(await cluster.run(["-n", options.namespace, "logs", name, "-c", "caller"]));
  const useCredentials = async (credentials: Credentials) => {
    version++;
    await writeCredentials(cluster, options.namespace, name, JSON.stringify({ version, ...credentials }));
    return version;
  };
  await useCredentials(options.credentials);
  return {
    name,
    calls,
    useCredentials,
    async stop() {
      try {
        return await calls();
      } finally {
        await cluster.run([
          "-n",
          options.namespace,
          "delete",
          "pod",
          name,
          "--wait=true",
          "--ignore-not-found",
        ]);
      }
    },
  };
}

/** One call from a pod of its own, which it deletes after; resolves to what that call got. */
export async function callOnce(cluster: LocalCluster, options: CallerPodOptions): Promise<CallRecord> {
  const name = `once-${randomBytes(3).toString("hex")}`;
  try {
    await runPod(
      cluster,
      options.namespace,
      podManifest({ ...options, name, script: ONE_SHOT, restartPolicy: "Never" }),
    );
    await writeCredentials(
      cluster,
      options.namespace,
      name,
      JSON.stringify({ version: 1, ...options.credentials }),
    );
    const { logs } = await endedPod(cluster, options.namespace, name);
    const [record] = parseCalls(logs);
    if (!record) throw new Error(`pod ${name} logged no call`);
    return record;
  } finally {
    await cluster.run(["-n", options.namespace, "delete", "pod", name, "--wait=false", "--ignore-not-found"]);
  }
}
