/**
 * The library as a user installs it: `npm pack` of this repository (prepack runs the build), the
 * tarball installed into fresh consumer projects, whose programs are type-checked by their own tsc
 * under `strict` against the installed declarations (skipLibCheck off), loaded by plain Node from
 * their node_modules, and previewed under the emulated engine with the tls and docker emulations.
 *
 * Two consumers: the README's project (the section "Use it in your own Pulumi program": its
 * ```ts block written verbatim as index.ts, its ```yaml block as Pulumi.yaml and its ```json block
 * as tsconfig.json; its install lines checked against the tarball and the versions tested here)
 * and examples/basic (copied as it is). Both run as TypeScript by Node's type stripping, as their
 * Pulumi.yaml says; the README's program is also compiled to JavaScript, to load with type
 * stripping off. Run with plain `node`, outside Pulumi, each stops with the library's one line.
 * Neither loads anything from this repository but the tarball.
 *
 * The same tarball, installed, is also started as a Pulumi plugin from node_modules, as
 * `pulumi package add ./node_modules/mtls-pki` would, and must serve the package's schema.
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
import { markdownLinks } from "../docs/markdown-links.ts";
import { startPlugin } from "../plugin/support/plugin-process.ts";
import { note } from "../support/run-notes.ts";
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
  runWithoutEngine,
  tempDir,
  typeCheck,
  writeJson,
} from "./support/consumer-project.ts";
import { exportedNames, onlyBlock, sectionBlocks } from "./support/readme-snippet.ts";

const README_SECTION = "Use it in your own Pulumi program";
/** The installed package and its services' build context, seen from the consumer's directory. */
const INSTALLED_PACKAGE = "node_modules/mtls-pki";
const INSTALLED_SERVICES = `${INSTALLED_PACKAGE}/services`;

/** What the README's section gives a user to copy. */
interface ReadmeProject {
  /** index.ts */
  program: string;
  /** Pulumi.yaml */
  pulumiYaml: string;
  /** tsconfig.json */
  tsconfig: string;
  /** The shell lines that pack and install the library. */
  install: string;
}

/** The one line a program run outside Pulumi prints, for its first component. */
const OUTSIDE_PULUMI = (first: string) =>
  `${first}: declared outside a Pulumi engine; run this program with the Pulumi CLI (pulumi preview, pulumi up), not with node`;

let work: string | undefined;
let library: PackedLibrary;
let readme: ReadmeProject;
let readmeConsumer: string;
let exampleConsumer: string;
let skipReason: string | undefined;

async function readmeProject(): Promise<ReadmeProject> {
  const blocks = await sectionBlocks(path.join(ROOT, "README.md"), README_SECTION);
  const install = blocks.find((block) => block.lang === "sh" && block.text.includes("npm pack"));
  if (!install) throw new Error(`the README's "${README_SECTION}" has no sh block that runs npm pack`);
  return {
    program: onlyBlock(blocks, "ts", README_SECTION),
    pulumiYaml: onlyBlock(blocks, "yaml", README_SECTION),
    tsconfig: onlyBlock(blocks, "json", README_SECTION),
    install: install.text,
  };
}

beforeAll(async () => {
  readme = await readmeProject();
  work = await tempDir("mtls-pki-package");
  library = await packLibrary(work);
  const { dependencies, devDependencies } = await consumerDependencies();

  // The README's project, its files verbatim; its dependencies at the versions installed here
  // (the README's ranges, checked below, include them), so the install can come from npm's cache.
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
  await writeFile(path.join(readmeConsumer, "tsconfig.json"), readme.tsconfig);
  await writeFile(path.join(readmeConsumer, "Pulumi.yaml"), readme.pulumiYaml);
  await writeFile(path.join(readmeConsumer, "index.ts"), readme.program);

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
    note(skipReason);
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

/** Whether the client service component waits for the server's: `dependsOn` names it (or its children). */
function waitsFor(run: ProgramRun, client: string, server: string): boolean {
  const services = run.registrations.filter((r) => r.type.endsWith(":MtlsService"));
  const serverService = services.find((r) => r.name === server);
  const clientService = services.find((r) => r.name === client);
  if (!serverService || !clientService) throw new Error(`no MtlsService "${client}" or "${server}"`);
  const serverUrns = new Set([serverService.urn, ...childrenOf(run, serverService).map((r) => r.urn)]);
  return clientService.options.dependencies.some((urn) => serverUrns.has(urn));
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
      "services/vendor/undici/lib/dispatcher/pool.js",
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
      // What the README links to, so that its links work in the installed package too.
      "examples/basic/README.md",
      "examples/basic/Pulumi.yaml",
      "examples/basic/index.ts",
      "examples/basic/package.json",
      "examples/basic/tsconfig.json",
      "examples/demo-app/Dockerfile",
      "examples/demo-app/.dockerignore",
      "examples/demo-app/main.ts",
      "examples/yaml/Pulumi.yaml",
      "examples/yaml/README.md",
      "examples/python/Pulumi.yaml",
      "examples/python/README.md",
      "examples/python/__main__.py",
      "examples/python/requirements.txt",
    ];
    for (const file of shipped) expect(files).toContain(file);
    expect(files).toContain("dist/plugin/host.js");
    const unexpected = files.filter(
      (f) =>
        ![...shipped, ...assets].includes(f) &&
        // A component asset also ships as its source, beside the component.
        !assets.includes(`dist/${f}`) &&
        !/^dist\/.*\.(js|d\.ts)$/.test(f) &&
        // The library's sources (the README's API table links them), the plugin's, and the docs.
        !/^(services\/src|components|plugin)\/.*\.ts$/.test(f) &&
        !/^docs\/[^/]+\.(md|svg)$/.test(f) &&
        // The reverse proxy's vendored connection pool (test/build/vendored-undici.test.ts).
        !/^services\/vendor\/undici\/(package\.json|LICENSE|lib\/.+)$/.test(f),
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

  it("holds every file its README links to, so the links work in node_modules/mtls-pki too", async () => {
    const readmeText = await readFile(path.join(ROOT, "README.md"), "utf8");
    const targets = markdownLinks(readmeText)
      .map((link) => link.target.split("#")[0]!)
      .filter((target) => target !== "" && !/^[a-z][a-z0-9+.-]*:/i.test(target));
    expect(targets.length).toBeGreaterThan(10);
    const packed = (target: string) =>
      library.files.includes(target) ||
      library.files.some((f) => f.startsWith(`${target.replace(/\/$/, "")}/`));
    expect(targets.filter((target) => !packed(target))).toEqual([]);
  });

  it("was built by a build that said in one line what it wrote", () => {
    expect(library.buildOutput).toHaveLength(1);
    expect(library.buildOutput[0]).toMatch(
      /^build-library: wrote dist\/ \(\d+ JavaScript modules with their \.d\.ts declarations; entry dist\/components\/index\.js\)$/,
    );
  });
});

/** The package specs of an `npm install` line: `name@range`, the tarball path kept as it is. */
function installSpecs(block: string, marker: RegExp): string[] {
  const line = block.split("\n").find((l) => marker.test(l));
  if (!line) throw new Error(`no line matching ${marker} in:\n${block}`);
  return line
    .replace(/#.*/, "")
    .trim()
    .split(/\s+/)
    .filter((word) => !/^(npm|install|--save-dev)$/.test(word));
}

describe("the README's set-up lines", () => {
  it("pack the checkout by its path and install the very tarball that makes, by its file name", () => {
    expect(readme.install).toMatch(/^npm pack \/path\/to\/mtls-pki\b/m);
    const [tarball] = installSpecs(readme.install, /^npm install \.\//);
    expect(tarball).toBe(`./${path.basename(library.tarball)}`);
  });

  it("install the SDKs with the library's own ranges, and the compiler and Node types this repository tests with", async () => {
    const manifest = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
    const [, ...sdks] = installSpecs(readme.install, /^npm install \.\//);
    expect(sdks.sort()).toEqual(
      Object.entries(manifest.dependencies)
        .map(([name, range]) => `${name}@${range}`)
        .sort(),
    );
    const devs = installSpecs(readme.install, /^npm install --save-dev /);
    expect(devs).toEqual(
      ["typescript", "@types/node"].map((name) => `${name}@${manifest.devDependencies[name]}`),
    );
  });

  it("give a Pulumi.yaml that runs index.ts by Node's type stripping", () => {
    expect(parse(readme.pulumiYaml)).toMatchObject({
      runtime: { name: "nodejs", options: { typescript: false } },
      main: "index.ts",
    });
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
  /** The README's tsconfig.json as it is, plus JavaScript output into bin/. */
  const compile = () => {
    compiled ??= typeCheck(readmeConsumer, ["--listFiles", "--noEmit", "false", "--outDir", "bin"]);
    return compiled;
  };

  it("is a complete program that imports the package by name and declares a PKI and services", () => {
    expect(readme.program).toMatch(/from "mtls-pki";/);
    expect(readme.program).toMatch(/new MtlsPki\(/);
    expect(readme.program).toMatch(/\.issueServer\(/);
    expect(readme.program).toMatch(/\.issueClient\(/);
    expect(readme.program).toMatch(/new MtlsService\(/);
    expect(exportedNames(readme.program).length).toBeGreaterThan(0);
  });

  it("type-checks under strict against the installed declarations", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    expectCheckedAgainstInstalledTypes(await compile(), readmeConsumer);
  });

  it("loads on plain Node with type stripping off: the installed package is JavaScript", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await compile();
    const loaded = await loadWithPlainNode(readmeConsumer, "bin/index.js", ["--no-experimental-strip-types"]);
    expect(loaded.exports).toEqual(exportedNames(readme.program));
    expect(loaded.stderr).not.toMatch(/ERR_|SyntaxError|ExperimentalWarning/);
  });

  it("previews under the emulation as its Pulumi.yaml runs it: a CA, one identity per service, the image from the installed package, the client after the server", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const project = parse(readme.pulumiYaml) as { name: string; main: string };
    const run = await previewConsumer(readmeConsumer, project.name, project.main);
    expectConsumerGraph(run, { services: 2, deliveryImage: false });
    expect(Object.keys(run.exports).sort()).toEqual(exportedNames(readme.program));
    expect(waitsFor(run, "worker", "api")).toBe(true);
  });

  it("run with plain node, outside Pulumi, stops with one line saying to run it with pulumi", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const result = await runWithoutEngine(readmeConsumer, "index.ts");
    expect(result.stderr.trim().split("\n")).toEqual([OUTSIDE_PULUMI('mtls:pki:MtlsPki "pki"')]);
    expect(result.code).toBe(1);
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
    for (const client of ["billing", "reports"]) expect(waitsFor(run, client, "ledger"), client).toBe(true);
  });

  it("run with plain node, outside Pulumi, stops with one line saying to run it with pulumi", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const result = await runWithoutEngine(exampleConsumer, "index.ts");
    expect(result.stderr.trim().split("\n")).toEqual([OUTSIDE_PULUMI('mtls:pki:MtlsPki "pki"')]);
    expect(result.code).toBe(1);
  });
});
