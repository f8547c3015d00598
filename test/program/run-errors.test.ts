/** The program stops on bad configuration before declaring anything, with the clear message. */
import { expect, it } from "vitest";
import { deploy, newStack } from "./deploy.ts";

it.each([
  [{ keyAlgorithm: "ECDSA-P224" }, /mtls-pki:keyAlgorithm: "ECDSA-P224" uses curve P-224/],
  [{ keyAlgorithm: "RSA-1024" }, /mtls-pki:keyAlgorithm: "RSA-1024" is RSA below 2048 bits/],
  [{ keyAlgorithm: "X448" }, /mtls-pki:keyAlgorithm: "X448" is not a supported key algorithm/],
  [{ leafValidityHours: "50000" }, /mtls-pki:leafValidityHours: 50000 h outlives its issuing CA/],
  [{ leafValidityHours: "24", earlyRenewalHours: "30" }, /mtls-pki:earlyRenewalHours: 30 h is not shorter/],
  [{ clients: '["a","a"]' }, /mtls-pki:clients: "a" is listed more than once/],
  [{ clients: '["UPPER"]' }, /mtls-pki:clients: "UPPER" is not a valid name/],
])("refuses %j before declaring any resource", async (config, message) => {
  const stack = newStack();
  const { engine } = stack;
  const attempt = deploy("staging", config, { stack });
  await expect(attempt).rejects.toThrow(message);
  await expect(attempt).rejects.toThrow('Invalid configuration for stack "staging" (Pulumi.staging.yaml)');
  expect(engine.registrations).toHaveLength(0);
  expect(engine.resources()).toHaveLength(0);
});

it("previews the dev stack without creating anything, certificates still unknown", async () => {
  const stack = newStack();
  const { engine } = stack;
  const { run, destroy } = await deploy("dev", {}, { stack, preview: true });
  expect(run.isKnown("server")).toBe(false);
  expect(run.isSecret("clientCredentials")).toBe(true);
  expect(engine.calls.every((call) => call.preview)).toBe(true);
  const types = new Set(engine.registrations.filter((r) => r.custom).map((r) => r.type));
  expect([...types].sort()).toEqual([
    "docker:index/container:Container",
    "docker:index/image:Image",
    "docker:index/network:Network",
    "docker:index/volume:Volume",
    "tls:index/certRequest:CertRequest",
    "tls:index/locallySignedCert:LocallySignedCert",
    "tls:index/privateKey:PrivateKey",
    "tls:index/selfSignedCert:SelfSignedCert",
  ]);
  await destroy();
});
