/**
 * `runtime: kubernetes` with no API server where the kubeconfig points: the program stops before
 * declaring anything, with the connection's own error and one line saying what to set. And the
 * other side of that check, so it cannot pass by refusing everything: a real HTTPS server on
 * loopback with the kubeconfig's CA counts as reachable even when it answers 401, and one with a
 * certificate of another CA does not. Real sockets, real certificates; no cluster needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterProblem } from "../../program/cluster-reachable.ts";
import { freePort } from "../support/free-port.ts";
import { createCa, issueLeaf } from "../support/pki-fixtures/pki.ts";
import { deploy, newStack } from "./deploy.ts";

const dir = mkdtempSync(path.join(tmpdir(), "mtls-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig with one context, `test`, for a server (and its CA, base64, when given). */
function kubeconfig(file: string, server: string, caPem?: string): string {
  const ca = caPem ? `      certificate-authority-data: ${Buffer.from(caPem).toString("base64")}\n` : "";
  const text = `apiVersion: v1
kind: Config
current-context: test
contexts:
  - name: test
    context: { cluster: local, user: admin }
clusters:
  - name: local
    cluster:
      server: ${server}
${ca}users:
  - name: admin
    user: {}
`;
  const where = path.join(dir, file);
  writeFileSync(where, text);
  return where;
}

describe("no reachable cluster", () => {
  it("stops the program before it declares anything: the connection's error, then what to set", async () => {
    const port = await freePort();
    const file = kubeconfig("closed.yaml", `https://127.0.0.1:${port}`);
    const stack = newStack();
    const attempt = deploy("kubernetes", { runtime: "kubernetes", kubeconfig: file }, { stack });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(
      `kubernetes: no API server answers at https://127.0.0.1:${port} (context "test" of ${file}): connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(error?.message).toContain(
      "set mtls-pki:kubeconfig (Pulumi.kubernetes.yaml) to your cluster's kubeconfig file (and mtls-pki:kubernetesContext to its context), or start the local cluster: scripts/kubernetes/cluster.sh up",
    );
    expect(stack.engine.registrations).toHaveLength(0);
  });

  it("names a kubeconfig that is not there, or lacks the context asked for", async () => {
    const missing = path.join(dir, "absent.yaml");
    expect(await clusterProblem({ kubeconfig: missing, context: undefined }, "Pulumi.k.yaml")).toMatch(
      new RegExp(`^kubernetes: cannot use the kubeconfig ${missing}: ENOENT`),
    );
    const file = kubeconfig("other.yaml", "https://127.0.0.1:1");
    expect(await clusterProblem({ kubeconfig: file, context: "prod" }, "Pulumi.k.yaml")).toContain(
      `cannot use the kubeconfig ${file}: ${file} has no context "prod"`,
    );
  });
});

describe("a reachable API server", () => {
  let server: Server;
  let url: string;
  let caPem: string;
  beforeAll(async () => {
    const ca = await createCa({ commonName: "kubeconfig test CA" });
    caPem = ca.certPem;
    const leaf = await issueLeaf(ca, {
      commonName: "apiserver",
      purpose: "server",
      ipAddresses: ["127.0.0.1"],
    });
    // Answers as an API server does to a caller without credentials when anonymous access is off.
    server = createServer({ cert: leaf.chainPem, key: leaf.keyPem }, (_request, response) => {
      response.writeHead(401).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("counts any HTTP answer over TLS verified with the kubeconfig's CA, 401 included", async () => {
    const file = kubeconfig("reachable.yaml", url, caPem);
    expect(await clusterProblem({ kubeconfig: file, context: undefined }, "Pulumi.k.yaml")).toBeUndefined();
  });

  it("refuses a server whose certificate the kubeconfig's CA did not sign", async () => {
    const other = await createCa({ commonName: "another CA" });
    const file = kubeconfig("wrong-ca.yaml", url, other.certPem);
    expect(await clusterProblem({ kubeconfig: file, context: undefined }, "Pulumi.k.yaml")).toMatch(
      /no API server answers at .*: (unable to verify|self.signed|certificate)/,
    );
  });
});
