/**
 * The schema the package serves to other languages, as the SDK's component provider infers it from
 * the components' TypeScript (ComponentProvider.getSchema, plugin/host.ts), against the checked-in
 * plugin/schema.json: a change to a component's args or outputs that changes what other languages
 * see fails here until `npm run schema` regenerates the file (and the diff is reviewed). Also what
 * the schema must say whatever the file holds: every component, typed inputs and outputs with
 * their documentation, the secrets marked, the enums carrying the library's values, the version
 * of package.json.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { RESTART_POLICIES } from "../../components/mtls-service-args.ts";
import { WORKLOAD_PROTOCOLS } from "../../components/mtls-workload-args.ts";
import { RestartPolicy, ServiceRole, TlsPolicy, WorkloadProtocol } from "../../plugin/enums.ts";
import { COMPONENTS } from "../../plugin/host.ts";
import { annotateSchema } from "../../plugin/schema-annotations.ts";
import { ROLES, TLS_POLICIES } from "../../services/src/contract.ts";
import { newProvider, ROOT } from "./support/construct.ts";

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
  secret?: boolean;
  optional?: boolean;
  plain?: boolean;
}
interface Resource {
  isComponent: boolean;
  description?: string;
  inputProperties: Record<string, Property>;
  requiredInputs: string[];
  properties: Record<string, Property>;
  required: string[];
}
interface Schema {
  name: string;
  version: string;
  description: string;
  resources: Record<string, Resource>;
  types: Record<string, { type: string; properties?: Record<string, Property>; enum?: { value: string }[] }>;
  dependencies: unknown[];
}

const SCHEMA_FILE = path.join(ROOT, "plugin/schema.json");
const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

let inferred: Schema;

beforeAll(async () => {
  inferred = JSON.parse(await newProvider().getSchema());
}, 120_000);

/** Every property of the schema, named `<resource or type> <in|out|field> <property>`. */
function everyProperty(schema: Schema): Array<[string, Property]> {
  const all: Array<[string, Property]> = [];
  for (const [token, resource] of Object.entries(schema.resources)) {
    for (const [name, p] of Object.entries(resource.inputProperties)) all.push([`${token} in ${name}`, p]);
    for (const [name, p] of Object.entries(resource.properties)) all.push([`${token} out ${name}`, p]);
  }
  for (const [token, type] of Object.entries(schema.types)) {
    for (const [name, p] of Object.entries(type.properties ?? {})) all.push([`${token} field ${name}`, p]);
  }
  return all;
}

describe("the schema ComponentProvider.getSchema() infers", () => {
  it("is the checked-in plugin/schema.json (after a change to the components' types: npm run schema)", () => {
    const checkedIn = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
    expect(inferred, "plugin/schema.json is out of date: run `npm run schema` and review the diff").toEqual(
      checkedIn,
    );
  });

  it("names the package mtls-pki, with package.json's version and description", () => {
    expect(inferred.name).toBe("mtls-pki");
    expect(inferred.version).toBe(packageJson.version);
    expect(inferred.description).toBe(packageJson.description);
    // No resource references to other packages: a consumer's SDK needs no docker or tls SDK.
    expect(inferred.dependencies).toEqual([]);
  });

  it("lists every component provider.ts exports, as mtls-pki:index:<class>, and nothing else", () => {
    const names = COMPONENTS.map((component) => component.name).sort();
    expect(names).toEqual([
      "MtlsPki",
      "MtlsService",
      "MtlsSwarmService",
      "MtlsWorkload",
      "ServiceImage",
      "ServiceNetwork",
      "SwarmNetwork",
    ]);
    expect(Object.keys(inferred.resources).sort()).toEqual(names.map((name) => `mtls-pki:index:${name}`));
    for (const resource of Object.values(inferred.resources)) {
      expect(resource.isComponent).toBe(true);
      expect(resource.description).toMatch(/\w+/);
    }
  });

  it("types every input and output (none falls back to Any) and documents each", () => {
    const properties = everyProperty(inferred);
    expect(properties.length).toBeGreaterThan(100);
    for (const [where, property] of properties) {
      expect(JSON.stringify(property), where).not.toContain("pulumi.json#/Any");
      expect(property.type ?? property.$ref, where).toBeDefined();
      expect(property.description, where).toMatch(/\w+/);
    }
  });

  it("says, for every optional input, its default or when it is required", () => {
    for (const [token, resource] of Object.entries(inferred.resources)) {
      for (const [name, property] of Object.entries(resource.inputProperties)) {
        if (resource.requiredInputs.includes(name)) continue;
        expect(property.description, `${token} ${name}`).toMatch(/\bDefault\b|\bRequired\b|\brequired\b/);
      }
    }
  });

  it("marks the private keys secret, and nothing else", () => {
    const secret = everyProperty(inferred)
      .filter(([, property]) => property.secret === true)
      .map(([where]) => where);
    expect(secret.sort()).toEqual([
      "mtls-pki:index:MtlsPki out privateKeys",
      "mtls-pki:index:ServiceIdentity field privateKeyPem",
    ]);
  });

  it("takes every service's identity as a ServiceIdentity of three PEM strings", () => {
    for (const component of ["MtlsService", "MtlsSwarmService", "MtlsWorkload"]) {
      const resource = inferred.resources[`mtls-pki:index:${component}`]!;
      expect(resource.inputProperties.identity!.$ref).toBe("#/types/mtls-pki:index:ServiceIdentity");
      expect(resource.requiredInputs).toContain("identity");
    }
    expect(inferred.types["mtls-pki:index:ServiceIdentity"]).toMatchObject({
      type: "object",
      properties: {
        chainPem: { type: "string" },
        privateKeyPem: { type: "string" },
        caBundlePem: { type: "string" },
      },
    });
  });

  it("outputs each identity MtlsPki issues by name, its key only in the secret map", () => {
    const pki = inferred.resources["mtls-pki:index:MtlsPki"]!;
    expect(pki.inputProperties.servers).toMatchObject({ type: "array", plain: true });
    expect(pki.inputProperties.clients).toMatchObject({
      type: "array",
      items: { type: "string" },
      plain: true,
    });
    expect(pki.properties.identities!.additionalProperties!.$ref).toBe(
      "#/types/mtls-pki:index:IssuedIdentity",
    );
    expect(pki.properties.privateKeys!.additionalProperties).toEqual({ type: "string" });
    const identity = inferred.types["mtls-pki:index:IssuedIdentity"]!;
    expect(Object.keys(identity.properties!).sort()).toEqual([
      "caBundlePem",
      "certPem",
      "chainPem",
      "fingerprintSha256",
      "notAfter",
      "profile",
      "renewalDueAt",
      "serialNumber",
      "spiffeId",
      "workload",
    ]);
  });
});

describe("the enums", () => {
  it("have exactly the values the library accepts", () => {
    expect(Object.values(ServiceRole).sort()).toEqual([...ROLES].sort());
    expect(Object.values(TlsPolicy).sort()).toEqual([...TLS_POLICIES].sort());
    expect(Object.values(RestartPolicy).sort()).toEqual([...RESTART_POLICIES].sort());
    expect(Object.values(WorkloadProtocol).sort()).toEqual([...WORKLOAD_PROTOCOLS].sort());
  });

  it("are schema enums with those values", () => {
    const values = (name: string) =>
      inferred.types[`mtls-pki:index:${name}`]?.enum?.map((m) => m.value).sort();
    expect(values("ServiceRole")).toEqual([...ROLES].sort());
    expect(values("TlsPolicy")).toEqual([...TLS_POLICIES].sort());
    expect(values("RestartPolicy")).toEqual([...RESTART_POLICIES].sort());
    expect(values("WorkloadProtocol")).toEqual([...WORKLOAD_PROTOCOLS].sort());
  });
});

/** The property names a library args interface declares (and the interfaces it extends, none today). */
function libraryArgs(file: string, type: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(path.join(ROOT, "components", file), "utf8"),
    ts.ScriptTarget.Latest,
  );
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === type,
  );
  if (!declaration) throw new Error(`no interface ${type} in components/${file}`);
  return declaration.members.filter(ts.isPropertySignature).map((member) => member.name.getText(source));
}

it.each([
  ["MtlsPki", "mtls-pki-args.ts", "MtlsPkiArgs"],
  ["MtlsService", "mtls-service-args.ts", "MtlsServiceArgs"],
  ["MtlsSwarmService", "mtls-swarm-service-args.ts", "MtlsSwarmServiceArgs"],
  ["MtlsWorkload", "mtls-workload-args.ts", "MtlsWorkloadArgs"],
  ["ServiceImage", "service-image.ts", "ServiceImageArgs"],
  ["ServiceNetwork", "service-network.ts", "ServiceNetworkArgs"],
  ["SwarmNetwork", "swarm-network.ts", "SwarmNetworkArgs"],
])("%s takes every arg of the library's %s %s", (component, file, type) => {
  const inputs = Object.keys(inferred.resources[`mtls-pki:index:${component}`]!.inputProperties);
  expect(inputs).toEqual(expect.arrayContaining(libraryArgs(file, type)));
});

it("refuses to serve a schema that lost a property marked secret, naming it", () => {
  const withoutKeys = structuredClone(inferred) as unknown as Record<string, unknown>;
  delete (withoutKeys.resources as Schema["resources"])["mtls-pki:index:MtlsPki"]!.properties.privateKeys;
  expect(() => annotateSchema(withoutKeys)).toThrow(
    "mtls-pki schema: resources > mtls-pki:index:MtlsPki > properties > privateKeys is not in the schema",
  );
});
