/**
 * The README's leaked-key procedure quotes the URN to pass to `pulumi up --replace`: it must be
 * the URN the engine gives that client's key. Runs the PKI half of the program for the prod stack
 * (whose clients the README uses) under the emulated engine, no Docker needed, and forms the URN
 * from the resource's ancestry as the engine does: every ancestor's type, outermost first, joined
 * by "$" (the SDK's `createUrn` does the same). The emulation's own URNs, like the SDK's
 * MockMonitor's, prefix only the parent's type, so they are not quoted as they are.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { stackConfig } from "../support/stack-files.ts";
import { deploy, pkiProgram } from "./deploy.ts";

it("quotes in the README the URN of the client key that `pulumi up --replace` replaces", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const quoted = readme.match(/--replace '([^']+)'/)?.[1];
  expect(quoted).toBeDefined();
  const deployment = await deploy("prod", stackConfig("prod"), { program: pkiProgram });
  try {
    const { registrations } = deployment.run;
    const key = registrations.find(
      (r) => r.type === "tls:index/privateKey:PrivateKey" && r.name === "pki-billing-key",
    );
    const types: string[] = [];
    for (let r = key; r; r = registrations.find((p) => p.urn === r?.parent)) types.unshift(r.type);
    expect(types).toEqual(["mtls:pki:MtlsPki", "mtls:pki:Identity", "tls:index/privateKey:PrivateKey"]);
    expect(quoted).toBe(`urn:pulumi:prod::mtls-pki::${types.join("$")}::pki-billing-key`);
  } finally {
    await deployment.destroy();
  }
});
