/**
 * Each policy of the pack, one good and one bad case (and the preview cases: an unknown value is
 * never a crash nor a "can't run during preview" advisory, and a secret-wrapped key is still a
 * key), sent to the pack over its analyzer protocol with properties shaped as the engine sends them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateKeyPem, resource, secret, stackOutputs, TYPES, UNKNOWN } from "./support/engine-shapes.ts";
import type { AnalyzerResource, Diagnostic, PolicyPackProcess } from "./support/policy-pack.ts";
import { startPolicyPack } from "./support/policy-pack.ts";

let pack: PolicyPackProcess;
beforeAll(async () => {
  pack = await startPolicyPack();
  await pack.configure();
});
afterAll(async () => {
  await pack?.stop();
});

const names = (ds: Diagnostic[]) => ds.map((d) => d.policyName).sort();
const analyze = async (r: AnalyzerResource) => names(await pack.analyze(r));
const stack = async (rs: AnalyzerResource[]) => names(await pack.analyzeStack(rs));

describe("keys", () => {
  const key = (props: Record<string, unknown>) => resource(TYPES.privateKey, "k", props);
  it("tls-key-ecdsa-curve: P256 passes; an unset curve (the provider's P224) and P224 fail; an unknown one waits", async () => {
    expect(await analyze(key({ algorithm: "ECDSA", ecdsaCurve: "P256" }))).toEqual([]);
    expect(await analyze(key({ algorithm: "ECDSA" }))).toEqual(["tls-key-ecdsa-curve"]);
    expect(await analyze(key({ algorithm: "ECDSA", ecdsaCurve: "P224" }))).toEqual(["tls-key-ecdsa-curve"]);
    expect(await analyze(key({ algorithm: "ECDSA", ecdsaCurve: UNKNOWN }))).toEqual([]);
  });
  it("tls-key-rsa-bits: 3072 and the default 2048 pass; 1024 fails", async () => {
    expect(await analyze(key({ algorithm: "RSA", rsaBits: 3072 }))).toEqual([]);
    expect(await analyze(key({ algorithm: "RSA" }))).toEqual([]);
    expect(await analyze(key({ algorithm: "RSA", rsaBits: 1024 }))).toEqual(["tls-key-rsa-bits"]);
  });
});

describe("certificates", () => {
  const ca = (props: Record<string, unknown>) =>
    resource(TYPES.selfSignedCert, "root", { isCaCertificate: true, validityPeriodHours: 87600, ...props });
  const leaf = (props: Record<string, unknown>) =>
    resource(TYPES.locallySignedCert, "leaf", {
      allowedUses: ["digital_signature", "server_auth"],
      validityPeriodHours: 720,
      earlyRenewalHours: 240,
      ...props,
    });
  it("tls-ca-key-usage: a CA with cert_signing and crl_signing passes; camelCase or missing uses fail", async () => {
    expect(await analyze(ca({ allowedUses: ["cert_signing", "crl_signing"] }))).toEqual([]);
    const [d] = await pack.analyze(ca({ allowedUses: ["certSigning", "crl_signing"] }));
    expect(d?.policyName).toBe("tls-ca-key-usage");
    expect(d?.message).toMatch(/certSigning is camelCase; the provider takes snake_case/);
  });
  it("tls-leaf-single-purpose: server_auth alone passes; both, or any_extended, fail; an unknown list waits", async () => {
    expect(await analyze(leaf({}))).toEqual([]);
    expect(await analyze(leaf({ allowedUses: ["server_auth", "client_auth"] }))).toEqual([
      "tls-leaf-single-purpose",
    ]);
    expect(await analyze(leaf({ allowedUses: ["any_extended"] }))).toEqual(["tls-leaf-single-purpose"]);
    expect(await analyze(leaf({ allowedUses: UNKNOWN }))).toEqual([]);
  });
  it("tls-leaf-max-validity: 720 hours passes, 8760 fails (default maximum 2160)", async () => {
    expect(await analyze(leaf({ validityPeriodHours: 8760, earlyRenewalHours: 720 }))).toEqual([
      "tls-leaf-max-validity",
    ]);
  });
  it("tls-leaf-early-renewal: 240 of 720 passes; none, or not shorter than the validity, fail", async () => {
    expect(await analyze(leaf({ earlyRenewalHours: undefined }))).toEqual(["tls-leaf-early-renewal"]);
    expect(await analyze(leaf({ earlyRenewalHours: 720 }))).toEqual(["tls-leaf-early-renewal"]);
  });

  const chain = (rootProps: Record<string, unknown>) => {
    const root = ca({ allowedUses: ["cert_signing", "crl_signing"], ...rootProps });
    const intermediate = resource(
      TYPES.locallySignedCert,
      "intermediate",
      { isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing"], validityPeriodHours: 17520 },
      { caCertPem: [root] },
    );
    return [root, intermediate];
  };
  it("tls-ca-path-length: a root with maxPathLength 1 above an intermediate passes; none, or 0 (no limit to Go), fail; unknown waits", async () => {
    expect(await stack(chain({ maxPathLength: 1 }))).toEqual([]);
    expect(await stack(chain({}))).toEqual(["tls-ca-path-length"]);
    expect(await stack(chain({ maxPathLength: 0 }))).toEqual(["tls-ca-path-length"]);
    expect(await stack(chain({ maxPathLength: UNKNOWN }))).toEqual([]);
  });
  it("tls-leaf-subject-alt-names: a request with dnsNames passes; one without SANs fails; unknown names wait", async () => {
    const withRequest = (csrProps: Record<string, unknown>) => {
      const csr = resource(TYPES.certRequest, "csr", csrProps);
      return [
        csr,
        resource(
          TYPES.locallySignedCert,
          "leaf",
          { allowedUses: ["client_auth"] },
          { certRequestPem: [csr] },
        ),
      ];
    };
    expect(await stack(withRequest({ dnsNames: ["api"] }))).toEqual([]);
    expect(await stack(withRequest({ subject: { commonName: "api" } }))).toEqual([
      "tls-leaf-subject-alt-names",
    ]);
    expect(await stack(withRequest({ dnsNames: UNKNOWN }))).toEqual([]);
  });
});

describe("key delivery", () => {
  const key = resource(TYPES.privateKey, "key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  it("private-key-in-runtime-config: uploads from a key pass; envs computed from a key fail while unknown (preview); a secret-wrapped PEM in labels fails", async () => {
    const delivery = resource(
      TYPES.container,
      "delivery",
      { image: "i", start: false, uploads: [{ file: "/k", content: secret(UNKNOWN) }] },
      { uploads: [key] },
    );
    expect(await stack([key, delivery])).toEqual([]);
    const envs = resource(TYPES.container, "app", { image: "i", envs: [UNKNOWN] }, { envs: [key] });
    expect(await stack([key, envs])).toEqual(["private-key-in-runtime-config"]);
    const labels = resource(TYPES.container, "app", {
      image: "i",
      labels: [{ label: "k", value: secret(privateKeyPem()) }],
    });
    expect(await stack([labels])).toEqual(["private-key-in-runtime-config"]);
    const secretData = resource(TYPES.secret, "s", { data: secret(UNKNOWN) }, { data: [key] });
    const service = resource(TYPES.service, "svc", { taskSpec: UNKNOWN }, { taskSpec: [key] });
    expect(await stack([key, secretData])).toEqual([]);
    expect(await stack([key, service])).toEqual(["private-key-in-runtime-config"]);
  });
  it("private-key-in-stack-output: a secret key passes, also nested; a plain one fails; an unknown one waits", async () => {
    const pem = privateKeyPem();
    expect(
      await stack([stackOutputs({ creds: secret({ keyPem: pem }), nested: { k: secret(pem) } })]),
    ).toEqual([]);
    expect(await stack([stackOutputs({ keyPem: pem })])).toEqual(["private-key-in-stack-output"]);
    expect(
      await stack([stackOutputs({ keyPem: UNKNOWN, b64: Buffer.from(pem).toString("base64") })]),
    ).toEqual(["private-key-in-stack-output"]);
  });
  it("private-key-upload-permissions: a key upload 0400 owned by 10001 passes; 0644 or no owner fails, secret-wrapped and unknown alike; certificates are not held to it", async () => {
    const container = (upload: Record<string, unknown>) =>
      resource(TYPES.container, "c", {
        image: "i",
        uploads: [{ file: "/etc/mtls/tls.crt", content: UNKNOWN, permissions: "0444" }, upload],
      });
    const good = { file: "/etc/mtls/tls.key", content: secret(UNKNOWN), permissions: "0400", owner: "10001" };
    expect(await analyze(container(good))).toEqual([]);
    expect(await analyze(container({ ...good, permissions: "0644" }))).toEqual([
      "private-key-upload-permissions",
    ]);
    expect(await analyze(container({ ...good, owner: undefined }))).toEqual([
      "private-key-upload-permissions",
    ]);
    expect(
      await analyze(
        container({ file: "/app/k.pem", content: privateKeyPem(), permissions: "0600", owner: "1" }),
      ),
    ).toEqual(["private-key-upload-permissions"]);
  });
  it("private-key-secret-mount-permissions: the key secret at 0400 and uid 10001 passes; the defaults (0444, root) fail", async () => {
    const keySecret = resource(
      TYPES.secret,
      "key",
      { name: "key-1234567", data: secret(UNKNOWN) },
      { data: [key] },
    );
    const service = (mount: Record<string, unknown>) =>
      resource(
        TYPES.service,
        "svc",
        {
          taskSpec: {
            containerSpec: {
              image: "i",
              user: "10001:10001",
              readOnly: true,
              capDrops: ["ALL"],
              secrets: [
                { secretId: UNKNOWN, secretName: "key-1234567", fileName: "/etc/mtls/tls.key", ...mount },
              ],
            },
            resources: { limits: { memoryBytes: 1 << 26 } },
          },
        },
        { taskSpec: [keySecret] },
      );
    expect(await stack([key, keySecret, service({ fileMode: 0o400, fileUid: "10001" })])).toEqual([]);
    expect(await stack([key, keySecret, service({})])).toEqual(["private-key-secret-mount-permissions"]);
  });
});

describe("workloads", () => {
  const hardened = {
    image: "i",
    user: "10001:10001",
    readOnly: true,
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    memory: 256,
    envs: ["MTLS_LISTEN=0.0.0.0:8443"],
    ports: [{ internal: 8443, ip: "127.0.0.1" }],
  };
  const container = (props: Record<string, unknown>) => [
    resource(TYPES.container, "svc", { ...hardened, ...props }),
  ];
  it("a hardened container that takes MTLS_ settings passes; each missing hardening fails its own rule", async () => {
    expect(await stack(container({}))).toEqual([]);
    expect(await stack(container({ user: undefined }))).toEqual(["workload-non-root"]);
    expect(await stack(container({ user: "0:0" }))).toEqual(["workload-non-root"]);
    expect(await stack(container({ capabilities: undefined }))).toEqual(["workload-capabilities-dropped"]);
    expect(await stack(container({ privileged: true }))).toEqual(["workload-capabilities-dropped"]);
    expect(await stack(container({ securityOpts: [] }))).toEqual(["workload-no-new-privileges"]);
    expect(await stack(container({ readOnly: false }))).toEqual(["workload-read-only-root"]);
    expect(await stack(container({ memory: undefined }))).toEqual(["workload-memory-limit"]);
    expect(await stack(container({ networkMode: "host" }))).toEqual(["workload-no-host-network"]);
    expect(await stack(container({ ports: [{ internal: 8443 }] }))).toEqual(["workload-publish-loopback"]);
    expect(await stack(container({ user: UNKNOWN, ports: UNKNOWN }))).toEqual([]);
  });
  it("containers with no identity (an app given MTLS_APP_PORT, a never-started delivery container) are not workloads", async () => {
    expect(
      await stack([resource(TYPES.container, "app", { image: "i", envs: ["MTLS_APP_PORT=8080"] })]),
    ).toEqual([]);
    const volume = resource(TYPES.volume, "v", { name: "v-1" });
    const delivery = resource(
      TYPES.container,
      "delivery",
      {
        image: "i",
        start: false,
        mounts: [{ type: "volume", source: "v-1", target: "/etc/mtls" }],
        uploads: [
          { file: "/etc/mtls/tls.key", content: secret(UNKNOWN), permissions: "0400", owner: "10001" },
        ],
      },
      { mounts: [volume] },
    );
    expect(await stack([volume, delivery])).toEqual([]);
    // ...but the container that mounts the volume it fills holds the identity.
    const mounting = resource(
      TYPES.container,
      "svc",
      { image: "i", mounts: [{ type: "volume", source: "v-1", target: "/etc/mtls" }] },
      { mounts: [volume] },
    );
    expect(await stack([volume, delivery, mounting])).toEqual([
      "workload-capabilities-dropped",
      "workload-memory-limit",
      "workload-no-new-privileges",
      "workload-non-root",
      "workload-read-only-root",
    ]);
  });
  it("a swarm service holding a key secret: hardened passes (no-new-privileges is not settable there); published ports fail", async () => {
    const key = resource(TYPES.privateKey, "key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const keySecret = resource(
      TYPES.secret,
      "key",
      { name: "key-1", data: secret(UNKNOWN) },
      { data: [key] },
    );
    const service = (extra: Record<string, unknown>) =>
      resource(
        TYPES.service,
        "svc",
        {
          taskSpec: {
            containerSpec: {
              image: "i",
              user: "10001:10001",
              readOnly: true,
              capDrops: ["ALL"],
              secrets: [
                { secretName: "key-1", fileName: "/etc/mtls/tls.key", fileMode: 0o400, fileUid: "10001" },
              ],
            },
            resources: { limits: { memoryBytes: 1 << 26 } },
          },
          ...extra,
        },
        { taskSpec: [keySecret] },
      );
    expect(await stack([key, keySecret, service({})])).toEqual([]);
    expect(
      await stack([key, keySecret, service({ endpointSpec: { ports: [{ targetPort: 8443 }] } })]),
    ).toEqual(["workload-publish-loopback"]);
  });
});

describe("server names", () => {
  const scene = (alias: string, dnsNames: string[], url: string) => {
    const csr = resource(TYPES.certRequest, "server-csr", { dnsNames });
    const cert = resource(
      TYPES.locallySignedCert,
      "server-cert",
      { allowedUses: ["digital_signature", "server_auth"], validityPeriodHours: 24, earlyRenewalHours: 8 },
      { certRequestPem: [csr] },
    );
    const server = resource(
      TYPES.container,
      "server",
      {
        image: "i",
        user: "1:1",
        readOnly: true,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges"],
        memory: 64,
        networksAdvanced: [{ name: "n", aliases: [alias] }],
        uploads: [
          { file: "/etc/mtls/tls.crt", content: UNKNOWN, permissions: "0444" },
          { file: "/etc/mtls/tls.key", content: secret(UNKNOWN), permissions: "0400", owner: "1" },
        ],
      },
      { uploads: [cert] },
    );
    const client = resource(TYPES.container, "client", {
      image: "i",
      user: "1:1",
      readOnly: true,
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges"],
      memory: 64,
      envs: [`MTLS_SERVER_URL=${url}`],
    });
    return [csr, cert, server, client];
  };
  it("server-name-matches-alias: alias = DNS SAN = the client's host passes; a SAN without the alias, or a client calling another name of the server, fails", async () => {
    expect(await stack(scene("api", ["api", "localhost"], "https://api:8443"))).toEqual([]);
    expect(await stack(scene("api", ["api-internal"], "https://other:8443"))).toEqual([
      "server-name-matches-alias",
    ]);
    const wrongName = await pack.analyzeStack(scene("api", ["api-internal"], "https://api:8443"));
    expect(names(wrongName)).toEqual(["server-name-matches-alias", "server-name-matches-alias"]);
  });
});

describe("configuration, as --policy-pack-config hands it to the pack", () => {
  afterAll(async () => {
    await pack.configure();
  });
  const leaf = resource(TYPES.selfSignedCert, "leaf", {
    allowedUses: ["server_auth"],
    validityPeriodHours: 720,
    earlyRenewalHours: 240,
    dnsNames: ["api"],
  });
  it("a threshold: maxHours 168 makes a 720-hour leaf a violation; a level: disabled silences it", async () => {
    await pack.configure({ "tls-leaf-max-validity": { maxHours: 168 } });
    expect(await analyze(leaf)).toEqual(["tls-leaf-max-validity"]);
    await pack.configure({ "tls-leaf-max-validity": { enforcementLevel: "disabled", maxHours: 168 } });
    expect(await analyze(leaf)).toEqual([]);
  });
  it('"all": advisory downgrades every mandatory policy', async () => {
    await pack.configure({ all: "advisory" });
    const [d] = await pack.analyze(resource(TYPES.privateKey, "k", { algorithm: "RSA", rsaBits: 1024 }));
    expect(d?.enforcementLevel).toBe("advisory");
  });
  it("remediate: an ECDSA key without a curve is given P256", async () => {
    await pack.configure({ "tls-key-ecdsa-curve": "remediate" });
    const fixed = await pack.remediate(resource(TYPES.privateKey, "k", { algorithm: "ECDSA" }));
    expect(fixed["tls-key-ecdsa-curve"]).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  });
});

it("the pack describes itself: name, version, and every policy with its level and remediation steps", async () => {
  const info = await pack.info();
  expect(info.name).toBe("mtls-pki");
  expect(info.version).toBe("0.1.0");
  expect(info.policies).toHaveLength(20);
  for (const p of info.policies) {
    expect(["mandatory", "advisory"], p.name).toContain(p.enforcementLevel);
    expect(p.remediationSteps, p.name).not.toBe("");
  }
});
