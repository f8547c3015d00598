/**
 * A program run with plain `node` (no Pulumi engine, no mocks) stops at the first component it
 * declares, with one line naming that component and saying to run the program with the Pulumi CLI,
 * exit status 1: never a stack trace about an arg whose output can never resolve. Each component
 * of the library, declared first in a fresh Node process, with args that are fine under an engine.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("../../components/index.ts", import.meta.url));
const SAY =
  "declared outside a Pulumi engine; run this program with the Pulumi CLI (pulumi preview, pulumi up), not with node";

/** Each component as a program would declare it first; `pulumi.output` stands for another resource's output. */
const FIRST_DECLARATIONS: [string, string, string][] = [
  ["MtlsPki", 'new MtlsPki("pki", { trustDomain: "example.internal" })', 'mtls:pki:MtlsPki "pki"'],
  ["ServiceImage", 'new ServiceImage("image")', 'mtls:docker:ServiceImage "image"'],
  ["ServiceNetwork", 'new ServiceNetwork("net")', 'mtls:docker:ServiceNetwork "net"'],
  ["SwarmNetwork", 'new SwarmNetwork("overlay")', 'mtls:swarm:SwarmNetwork "overlay"'],
  [
    "MtlsService",
    'new MtlsService("api", { role: "server", image: pulumi.output("img"), networkName: pulumi.output("net"), identity: {} })',
    'mtls:docker:MtlsService "api"',
  ],
  [
    "MtlsSwarmService",
    'new MtlsSwarmService("api", { role: "server", image: "img", networkId: pulumi.output("net"), identity: {} })',
    'mtls:swarm:MtlsSwarmService "api"',
  ],
  [
    "MtlsWorkload",
    'new MtlsWorkload("orders", { role: "server", image: "img", networkName: pulumi.output("net"), identity: {}, appImage: "app", appPort: 8080 })',
    'mtls:docker:MtlsWorkload "orders"',
  ],
  [
    "Identity",
    'new Identity("leaf", { workload: "api", profile: "server", issuer: {} })',
    'mtls:pki:Identity "leaf"',
  ],
];

function runPlainNode(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent("declared by a program that plain node runs", () => {
  it.each(FIRST_DECLARATIONS)(
    "%s stops the process with one line saying to run it with pulumi",
    async (name, declaration, where) => {
      const result = await runPlainNode(
        `import * as pulumi from "@pulumi/pulumi";\nimport { ${name} } from ${JSON.stringify(ENTRY)};\n${declaration};\nconsole.log("went on");\n`,
      );
      expect(result.stderr.trim().split("\n")).toEqual([`${where}: ${SAY}`]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
    },
  );
});
