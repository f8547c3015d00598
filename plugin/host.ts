/**
 * The component provider that serves this package to other languages: the SDK's
 * `ComponentProvider` (`@pulumi/pulumi/provider/experimental`), which infers the schema from the
 * components' TypeScript types and JSDoc and constructs them on the engine's request, plus the
 * secret marks the analyzer cannot infer (schema-annotations.ts). provider.js, at the package's
 * root, starts it the way `componentProviderHost` would.
 */
import { createRequire } from "node:module";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import { main } from "@pulumi/pulumi/provider/index.js";
import * as components from "../provider.ts";
import { annotateSchema } from "./schema-annotations.ts";

/** The package name other languages see: the npm name (`mtls-pki:index:MtlsPki`, `pulumi_mtls_pki`). */
export const PACKAGE_NAME = "mtls-pki";

/** Every component the package serves, as provider.ts exports them. */
export const COMPONENTS = Object.values(components);

/**
 * The analyzer compiles the package's TypeScript with the `typescript` that @pulumi/pulumi resolves,
 * else with the 3.8 it vendors, which cannot read these sources (and TypeScript 7 has no compiler
 * API). A clone or a checkout gets ours (a dev dependency); an installed copy needs the consumer's.
 */
export function typescriptProblem(): string | undefined {
  const fromSdk = createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
  let version: string;
  try {
    version = (fromSdk("typescript") as { version: string }).version;
  } catch {
    return "no typescript package is installed beside @pulumi/pulumi";
  }
  const major = Number(version.split(".")[0]);
  return major === 5 ? undefined : `typescript ${version} is installed beside @pulumi/pulumi`;
}

export class MtlsPkiProvider extends ComponentProvider {
  private annotated: string | undefined;

  /**
   * `packageDir` is the package root: where package.json (name, version, "main") and the
   * tsconfig.json the analyzer compiles with are.
   */
  constructor(packageDir: string) {
    super({ name: PACKAGE_NAME, dirname: packageDir, components: COMPONENTS });
  }

  override async getSchema(): Promise<string> {
    const problem = this.annotated === undefined ? typescriptProblem() : undefined;
    if (problem) {
      throw new Error(
        `mtls-pki: inferring the package's schema needs TypeScript 5, but ${problem}; install it there (npm install --save-dev typescript@5)`,
      );
    }
    this.annotated ??= JSON.stringify(annotateSchema(JSON.parse(await super.getSchema())));
    return this.annotated;
  }
}

/** Serves the components over gRPC and prints the port, as every Pulumi plugin does; `args` as the engine passes them. */
export function serve(packageDir: string, args: string[]): Promise<void> {
  return main(new MtlsPkiProvider(packageDir), args);
}
