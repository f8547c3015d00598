// The entry point of this package as a Pulumi plugin (package.json "main", PulumiPlugin.yaml beside
// it): Pulumi's Node.js language host requires this file and keeps the process running while the
// component provider it starts serves the engine. See docs/PACKAGE.md.
//
// It loads the TypeScript sources, as Node runs them by its own type stripping (Node >= 22.18),
// from a clone or a checkout. Node refuses to strip types under node_modules, so a copy installed
// by npm loads the same modules compiled, from dist/ (which the packed tarball ships).
//
// Plain JavaScript, and no top-level await: the language host loads it with require().
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL(".", import.meta.url));

function loadHost() {
  return import("./plugin/host.ts").catch((error) => {
    if (error?.code !== "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING") throw error;
    return import("./dist/plugin/host.js");
  });
}

loadHost()
  .then((host) => host.serve(packageDir, process.argv.slice(2)))
  .catch((error) => {
    console.error(`mtls-pki: the component provider did not start: ${error?.stack ?? error}`);
    process.exitCode = 1;
  });
