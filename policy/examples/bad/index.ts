/**
 * A deliberately bad program: every policy of the mtls-pki pack (policy/) trips exactly once.
 * Preview it with the pack, never deploy it:
 *
 *   pulumi preview --policy-pack ../..
 *
 * The PKI's mistakes are in pki.ts; the delivery and container mistakes are here, each named.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { badPki } from "./pki.ts";

const config = new pulumi.Config();
const image = config.get("image") ?? "node:24-slim";
const { serverKey, serverCert } = badPki();

const network = new docker.Network("bad-net", {});

// A container holding an identity that breaks every hardening rule: no user (root), a writable
// root, no capability dropped, no no-new-privileges, no memory limit, a port on every interface.
const server = new docker.Container("server", {
  image,
  command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
  // private-key-in-runtime-config: the key in the environment.
  envs: [pulumi.interpolate`MTLS_KEY_PEM=${serverKey.privateKeyPem}`, "MTLS_LISTEN=0.0.0.0:8443"],
  networksAdvanced: [{ name: network.name, aliases: ["bad-server"] }],
  ports: [{ internal: 8443 }],
  uploads: [
    { file: "/etc/mtls/tls.crt", content: serverCert.certPem, permissions: "0444" },
    // private-key-upload-permissions: mode 0644 and no owner (root's).
    { file: "/etc/mtls/tls.key", content: serverKey.privateKeyPem, permissions: "0644" },
  ],
});

// workload-no-host-network: otherwise hardened, on the host's network.
new docker.Container("host-network-client", {
  image,
  command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
  // server-name-matches-alias: calls the server by a name its certificate does not carry.
  envs: ["MTLS_SERVER_URL=https://bad-server:8443"],
  networkMode: "host",
  user: "10001:10001",
  readOnly: true,
  capabilities: { drops: ["ALL"] },
  securityOpts: ["no-new-privileges:true"],
  memory: 64,
});

// private-key-secret-mount-permissions: a hardened swarm service mounting the key with the
// default mode (0444) and uid (root).
const keySecret = new docker.Secret("server-key", {
  data: serverKey.privateKeyPem.apply((pem) => Buffer.from(pem).toString("base64")),
});
new docker.Service("swarm-server", {
  taskSpec: {
    containerSpec: {
      image,
      user: "10001:10001",
      readOnly: true,
      capDrops: ["ALL"],
      secrets: [{ secretId: keySecret.id, secretName: keySecret.name, fileName: "/etc/mtls/tls.key" }],
    },
    resources: { limits: { memoryBytes: 64 * 1024 * 1024 } },
  },
});

export const serverName = server.name;
// private-key-in-stack-output: the key, unsecret, as a plain output (checked once the key exists:
// on `pulumi up`, and on every preview after it).
export const serverKeyPem = pulumi.unsecret(serverKey.privateKeyPem);
