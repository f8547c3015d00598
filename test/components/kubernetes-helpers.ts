/** What the Kubernetes components' tests share: the type tokens, and the check for key material. */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import type { ComponentRun } from "./harness.ts";

export const K8S = {
  component: "mtls:kubernetes:MtlsKubernetesService",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  service: "kubernetes:core/v1:Service",
  deployment: "kubernetes:apps/v1:Deployment",
} as const;

/** True when a secret wrapper sits anywhere inside the value the SDK sent. */
export function containsSecret(value: unknown): boolean {
  if (pulumi.runtime.isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

/** No private key, as PEM or as the base64 a Secret's data carries, in any plaintext input. */
export function expectNoPlaintextKey(run: ComponentRun, keyPem: string): void {
  const base64 = Buffer.from(keyPem).toString("base64");
  for (const r of run.run.registrations) {
    const raw = run.engine.rawInputs.get(`${r.type}::${r.name}`) ?? {};
    for (const [key, value] of Object.entries(raw)) {
      if (containsSecret(value)) continue;
      const text = JSON.stringify(value) ?? "";
      expect(text, `${r.type} ${r.name} ${key}`).not.toMatch(/PRIVATE KEY/);
      expect(text.includes(base64), `${r.type} ${r.name} ${key}`).toBe(false);
    }
  }
}
