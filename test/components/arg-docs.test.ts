/**
 * Every public arg is documented the way pulumi-eks documents its args: a JSDoc block that gives the
 * default (or says the arg is required) and what changing it does. Read from the sources with the
 * TypeScript compiler, so an undocumented new arg fails here.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";

const ARGS: Array<[file: string, type: string]> = [
  ["mtls-pki-args.ts", "MtlsPkiArgs"],
  ["mtls-pki-args.ts", "ServerIdentityOptions"],
  ["mtls-service-args.ts", "MtlsServiceArgs"],
  ["mtls-workload-args.ts", "MtlsWorkloadArgs"],
  ["service-image.ts", "ServiceImageArgs"],
  ["service-network.ts", "ServiceNetworkArgs"],
  ["mtls-swarm-service-args.ts", "MtlsSwarmServiceArgs"],
  ["swarm-network.ts", "SwarmNetworkArgs"],
  ["kubernetes/mtls-kubernetes-service-args.ts", "MtlsKubernetesServiceArgs"],
  ["kubernetes/mtls-kubernetes-workload-args.ts", "MtlsKubernetesWorkloadArgs"],
  ["kubernetes/service-namespace.ts", "ServiceNamespaceArgs"],
  ["kubernetes/local-cluster-image.ts", "LocalClusterImageArgs"],
];

/** Each property of the interface with its JSDoc text ("" when it has none). */
function documentedProperties(file: string, type: string): Map<string, string> {
  const path = fileURLToPath(new URL(`../../components/${file}`, import.meta.url));
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === type,
  );
  if (!declaration) throw new Error(`no interface ${type} in components/${file}`);
  return new Map(
    declaration.members.filter(ts.isPropertySignature).map((member) => {
      const docs = ts.getJSDocCommentsAndTags(member).map((doc) => doc.getText());
      return [member.name.getText(), docs.join("\n")];
    }),
  );
}

it.each(ARGS)("documents every arg of %s %s with its default and what changing it does", (file, type) => {
  const properties = documentedProperties(file, type);
  expect(properties.size).toBeGreaterThan(1);
  const lacking = [...properties]
    .filter(([, doc]) => !/Default|Required/.test(doc) || !/Chang|Turning|replaces|A plain/.test(doc))
    .map(([name]) => name);
  expect(lacking).toEqual([]);
});
