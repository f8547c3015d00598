/**
 * The library as a user installs it: `npm pack` of this repository (prepack runs the build), the
 * tarball installed into fresh consumer projects, whose programs are type-checked by their own tsc
 * under `strict` against the installed declarations (skipLibCheck off), loaded by plain Node from
 * their node_modules, and previewed under the emulated engine with the tls and docker emulations.
 *
 * The same tarball, installed, is also started as a Pulumi plugin from node_modules, as
 * `pulumi package add ./node_modules/mtls-pki` would, and must serve the package's schema.
 *
 * Two consumers: the README's program (the first ```ts block of "Use it in your own Pulumi
 * program", written verbatim as index.ts and compiled to JavaScript) and examples/basic (copied
 * as it is, run as TypeScript by Node's type stripping as its Pulumi.yaml says). Neither loads
 * anything from this repository but the tarball.
 *
 * A preview needs no Docker engine: the docker emulation creates nothing under preview, but checks
 * what the provider checks at preview, among it that the image's Dockerfile exists at the path the
 * program gives, relative to the program's working directory (PROVIDERS.md §2.1).
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  createDockerProvider,
  EmulatedEngine,
  IMAGE_TYPE,
  type ProgramRun,
  type Registration,
  runProgram,
  TlsProvider,
} from "../../emulation/index.ts";
import { startPlugin } from "../plugin/support/plugin-process.ts";
import {
  consumerDependencies,
  copyProject,
  installConsumer,
  loadWithPlainNode,
  type PackedLibrary,
  packLibrary,
  RegistryUnreachable,
  ROOT,
  removeDir,
  tempDir,
  typeCheck,
  writeJson,
} from "./support/consumer-project.ts";
import { exportedNames, firstTsBlock } from "./support/readme-snippet.ts";

const README_SECTION = "Use it in your own Pulumi program";
/** The installed package and its services' build context, seen from the consumer's directory. */
const INSTALLED_PACKAGE = "node_modules/mtls-pki";
const INSTALLED_SERVICES = `${INSTALLED_PACKAGE}/services`;

/** The compiler settings the README tells a consumer to use, plus JavaScript output. */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2023",
    lib: ["ES2023"],
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    strict: true,
    // Our declarations are checked as strictly as the consumer's own code.
    skipLibCheck: false,
    outDir: "bin",
  },
  include: ["index.ts"],
};

let work: string | undefined;
let library: PackedLibrary;
let readmeProgram: string;
let readmeConsumer: string;
let exampleConsumer: string;
let skipReason: string | undefined;

beforeAll(async () => {
  readmeProgram = await firstTsBlock(path.join(ROOT, "README.md"), README_SECTION);
  work = await tempDir("mtls-pki-package");
  library = await packLibrary(work);
  const { dependencies, devDependencies } = await consumerDependencies();

  readmeConsumer = path.join(work, "readme-consumer");
  await mkdir(readmeConsumer);
  await writeJson(path.join(readmeConsumer, "package.json"), {
    name: "readme-consumer",
    version: "0.0.0",
    private: true,
    type: "module",
    dependencies,
    devDependencies,
  });
  await writeJson(path.join(readmeConsumer, "tsconfig.json"), CONSUMER_TSCONFIG);
  await writeFile(path.join(readmeConsumer, "index.ts"), readmeProgram);

  // The example as committed, with the tarball in place of its file:../.. dependency and its
  // other dependencies at this project's versions (what the tests here ran against).
  exampleConsumer = path.join(work, "example");
  await copyProject(path.join(ROOT, "examples/basic"), exampleConsumer);
  const manifestFile = path.join(exampleConsumer, "package.json");
  const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
  delete manifest.dependencies["mtls-pki"];
  Object.assign(manifest.dependencies, dependencies);
  Object.assign(manifest.devDependencies, devDependencies);
  await writeJson(manifestFile, manifest);

  try {
    await installConsumer(readmeConsumer, library);
    await installConsumer(exampleConsumer, library);
  } catch (error) {
    if (!(error instanceof RegistryUnreachable)) throw error;
    skipReason = `package tests skipped: a fresh install needs the npm registry, or an npm cache filled by one run that reached it (${error.message.split("\n")[0]})`;
    console.warn(skipReason);
  }
}, 600_000);

afterAll(async () => {
  await removeDir(work);
});

/** Runs `fn` with `dir` as the working directory, as Pulumi runs a program from its project dir. */
async function inDirectory<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(previous);
  }
}

async function previewConsumer(dir: string, project: string, entry: string): Promise<ProgramRun> {
  const engine = new EmulatedEngine([new TlsProvider(), createDockerProvider()]);
  const url = pathToFileURL(path.join(dir, entry)).href;
  return inDirectory(dir, () =>
    runProgram({
      engine,
      project,
      stack: "dev",
      preview: true,
      program: () => import(/* @vite-ignore */ url),
    }),
  );
}

function ofType(run: ProgramRun, type: string): Registration[] {
  return run.registrations.filter((r) => r.type === type);
}

function childrenOf(run: ProgramRun, parent: Registration): Registration[] {
  return run.registrations.filter((r) => r.parent === parent.urn);
}

/** What every consumer's preview must show: the PKI, the image from the package, the services. */
function expectConsumerGraph(run: ProgramRun, expected: { services: number; deliveryImage: boolean }): void {
  expect(run.ops.every((op) => op.op === "create")).toBe(true);

  const roots = ofType(run, "tls:index/selfSignedCert:SelfSignedCert");
  expect(roots).toHaveLength(1);
  expect(roots[0]!.inputs.isCaCertificate).toBe(true);
  // One leaf per service (the server and each client), signed by the CA.
  expect(ofType(run, "tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(expected.services);

  // Build contexts inside the installed package, relative to the program's directory (the docker
  // emulation has already checked, as the provider does at preview, that each Dockerfile exists).
  const builds = ofType(run, IMAGE_TYPE).map((image) => image.inputs.build as Record<string, unknown>);
  const contexts = builds.map((build) => build.context);
  expect(contexts).toContain(INSTALLED_SERVICES);
  if (expected.deliveryImage)
    expect(contexts).toContain(`${INSTALLED_PACKAGE}/dist/components/delivery-image`);
  expect(builds).toHaveLength(expected.deliveryImage ? 2 : 1);
  for (const build of builds) {
    expect(build.dockerfile).toBe(`${build.context}/Dockerfile`);
  }

  const mtlsServices = run.registrations.filter((r) => r.type.endsWith(":MtlsService"));
  expect(mtlsServices).toHaveLength(expected.services);
  for (const service of mtlsServices) {
    const containers = childrenOf(run, service).filter((r) => r.type === "docker:index/container:Container");
    // The service container and its identity's delivery container.
    expect(containers.map((c) => c.name).sort()).toEqual([service.name, `${service.name}-delivery`].sort());
  }
}

/**
 * tsc succeeded (it rejects otherwise) and `--listFiles` shows the program's types came from the
 * installed package's declarations.
 */
function expectCheckedAgainstInstalledTypes(listFiles: string, dir: string): void {
  const files = listFiles.split("\n").filter((line) => line !== "");
  expect(files).toContain(path.join(dir, "node_modules/mtls-pki/dist/components/index.d.ts"));
  expect(files).toContain(path.join(dir, "index.ts"));
  expect(files.filter((f) => f.includes("/mtls-pki/") && !f.endsWith(".d.ts"))).toEqual([]);
}

describe("the packed tarball", () => {
  it("points package.json at the library while Pulumi.yaml keeps index.ts as this project's program", async () => {
    const manifest = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
    const project = parse(await readFile(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    expect(manifest.exports["."]).toEqual({
      types: "./dist/components/index.d.ts",
      import: "./dist/components/index.js",
    });
    expect(manifest.private).toBeUndefined();
    // "main" is the package as a Pulumi plugin (provider.js, beside PulumiPlugin.yaml): Node uses it
    // only to load the package directory by path, as Pulumi's plugin runner does; by name, exports.
    expect(manifest.main).toBe("./provider.js");
    // Pulumi runs package.json's exports["."] only when Pulumi.yaml names no main (run.js).
    expect(project.main).toBe("index.ts");
  });

  it("ships the compiled library with its declarations and the services' build context, and nothing else", async () => {
    const { files } = library;
    // Non-TypeScript files of the components (e.g. a Dockerfile one builds from) sit next to the
    // compiled modules, where those look for them.
    const assets = (await readdir(path.join(ROOT, "components"), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.endsWith(".ts"))
      .map((entry) => `dist/${path.relative(ROOT, path.join(entry.parentPath, entry.name))}`);
    for (const asset of assets) expect(files).toContain(asset);
    for (const file of [
      "package.json",
      "README.md",
      "LICENSE",
      "dist/components/index.js",
      "dist/components/index.d.ts",
      "services/Dockerfile",
      "services/.dockerignore",
      // The image's build stage runs it: without it a consumer's ServiceImage cannot build.
      "services/build/strip-types.ts",
      "services/src/main.ts",
      "services/src/server.ts",
      "services/src/client.ts",
      "services/src/healthcheck.ts",
    ]) {
      expect(files).toContain(file);
    }
    const shipped = [
      "package.json",
      "README.md",
      "LICENSE",
      "services/Dockerfile",
      "services/.dockerignore",
      "services/build/strip-types.ts",
      // The package as a Pulumi plugin: its manifest and entry, and what the schema analyzer reads
      // (the TypeScript sources of the components it serves, and the tsconfig it compiles them with).
      "PulumiPlugin.yaml",
      "provider.js",
      "provider.ts",
      "tsconfig.json",
      "plugin/schema.json",
    ];
    for (const file of shipped) expect(files).toContain(file);
    expect(files).toContain("dist/plugin/host.js");
    const unexpected = files.filter(
      (f) =>
        ![...shipped, ...assets].includes(f) &&
        // A component asset also ships as its source, beside the component.
        !assets.includes(`dist/${f}`) &&
        !/^dist\/.*\.(js|d\.ts)$/.test(f) &&
        !/^(services\/src|components|plugin)\/.*\.ts$/.test(f),
    );
    expect(unexpected).toEqual([]);
    // Every module in dist/ comes with its declarations.
    const modules = files.filter((f) => f.startsWith("dist/") && f.endsWith(".js"));
    expect(modules.length).toBeGreaterThan(0);
    for (const js of modules) expect(files).toContain(js.replace(/\.js$/, ".d.ts"));
    console.info(
      `mtls-pki tarball: ${library.files.length} files, ${library.size} bytes (${library.unpackedSize} unpacked)`,
    );
  });
});

describe("the tarball installed in a fresh project, started as a Pulumi plugin from node_modules", () => {
  it("serves the checked-in schema (the compiled host in dist/, the analyzer reading the shipped sources)", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const plugin = await startPlugin(path.join(readmeConsumer, INSTALLED_PACKAGE), readmeConsumer);
    try {
      const checkedIn = JSON.parse(await readFile(path.join(ROOT, "plugin/schema.json"), "utf8"));
      expect(await plugin.schema()).toEqual(checkedIn);
      expect(plugin.stderr()).toBe("");
    } finally {
      await plugin.stop();
    }
  }, 180_000);
});

describe("the README's program, in a fresh project that installed the tarball", () => {
  let compiled: Promise<string> | undefined;
  const compile = () => {
    compiled ??= typeCheck(readmeConsumer, ["--listFiles"]);
    return compiled;
  };

  it("is a complete program that imports the package by name and declares a PKI and services", () => {
    expect(readmeProgram).toMatch(/from "mtls-pki";/);
    expect(readmeProgram).toMatch(/new MtlsPki\(/);
    expect(readmeProgram).toMatch(/\.issueServer\(/);
    expect(readmeProgram).toMatch(/\.issueClient\(/);
    expect(readmeProgram).toMatch(/new MtlsService\(/);
    expect(exportedNames(readmeProgram).length).toBeGreaterThan(0);
  });

  it("type-checks under strict against the installed declarations", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    expectCheckedAgainstInstalledTypes(await compile(), readmeConsumer);
  });

  it("loads on plain Node with type stripping off: the installed package is JavaScript", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await compile();
    const loaded = await loadWithPlainNode(readmeConsumer, "bin/index.js", ["--no-experimental-strip-types"]);
    expect(loaded.exports).toEqual(exportedNames(readmeProgram));
    expect(loaded.stderr).not.toMatch(/ERR_|SyntaxError|ExperimentalWarning/);
  });

  it("previews under the emulation: a CA, one identity per service, the image from the installed package", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await compile();
    const run = await previewConsumer(readmeConsumer, "readme-consumer", "bin/index.js");
    expectConsumerGraph(run, { services: 2, deliveryImage: false });
    expect(Object.keys(run.exports).sort()).toEqual(exportedNames(readmeProgram));
  });
});

describe("examples/basic, with the tarball installed in place of its file:../.. dependency", () => {
  it("is a Pulumi project of its own that runs index.ts by Node's type stripping", async () => {
    const project = parse(await readFile(path.join(ROOT, "examples/basic/Pulumi.yaml"), "utf8"));
    const manifest = JSON.parse(await readFile(path.join(ROOT, "examples/basic/package.json"), "utf8"));
    expect(project).toMatchObject({
      runtime: { name: "nodejs", options: { typescript: false } },
      main: "index.ts",
    });
    expect(manifest).toMatchObject({ type: "module", dependencies: { "mtls-pki": "file:../.." } });
  });

  it("type-checks under strict against the installed declarations", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    // The example's own tsconfig.json (noEmit), with our declarations checked too.
    const listed = await typeCheck(exampleConsumer, ["--skipLibCheck", "false", "--listFiles"]);
    expectCheckedAgainstInstalledTypes(listed, exampleConsumer);
  });

  it("loads with plain Node as Pulumi runs it: index.ts stripped, the package from node_modules", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const loaded = await loadWithPlainNode(exampleConsumer, "index.ts", []);
    expect(loaded.exports).toEqual([
      "caCertificatePem",
      "clientSpiffeIds",
      "containerNames",
      "serverSpiffeId",
    ]);
    expect(loaded.stderr).not.toMatch(/ERR_|SyntaxError|ExperimentalWarning/);
  });

  it("previews under the emulation with its default clients", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const run = await previewConsumer(exampleConsumer, "mtls-pki-example", "index.ts");
    // The server and the two default clients (billing, reports), delivered from the delivery image.
    expectConsumerGraph(run, { services: 3, deliveryImage: true });
  });
});
