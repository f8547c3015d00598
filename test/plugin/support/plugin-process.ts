/**
 * Starts the package as a Pulumi plugin the way Pulumi's Node.js language host does for a
 * source-based plugin (pulumi-language-nodejs RunPlugin): `node <@pulumi/pulumi/cmd/run-plugin>
 * <plugin directory>`, resolved from the plugin directory, in the consumer's working directory. The
 * plugin prints the port of its gRPC server; this talks to it with the SDK's own gRPC client
 * stubs, as the engine does for `pulumi package get-schema` and `pulumi package add`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

interface GrpcClient {
  getSchema(
    request: unknown,
    callback: (error: Error | null, response?: { getSchema(): string }) => void,
  ): void;
  getPluginInfo(
    request: unknown,
    callback: (error: Error | null, response?: { getVersion(): string }) => void,
  ): void;
  close(): void;
}

export interface RunningPlugin {
  /** The schema the plugin serves (GetSchema, version 0). */
  schema(): Promise<Record<string, unknown>>;
  /** The version the plugin reports (GetPluginInfo). */
  version(): Promise<string>;
  /** What the plugin wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the plugin in `pluginDir` (it must have its node_modules) with `cwd` as the consumer's directory. */
export async function startPlugin(pluginDir: string, cwd: string): Promise<RunningPlugin> {
  // Resolved from the plugin, as the language host does (locateModule from the program directory).
  const fromPlugin = createRequire(path.join(pluginDir, "package.json"));
  const runPlugin = fromPlugin.resolve("@pulumi/pulumi/cmd/run-plugin");
  const fromSdk = createRequire(fromPlugin.resolve("@pulumi/pulumi/package.json"));
  const grpc = fromSdk("@grpc/grpc-js");
  const { ResourceProviderClient } = fromSdk("./proto/provider_grpc_pb.js");
  const { GetSchemaRequest } = fromSdk("./proto/provider_pb.js");
  const { Empty } = fromSdk("google-protobuf/google/protobuf/empty_pb.js");

  const child: ChildProcess = spawn(process.execPath, [runPlugin, pluginDir], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const port = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      const line = /^(\d+)\r?\n/.exec(stdout);
      if (line) resolve(line[1]!);
    });
    child.once("exit", (code) =>
      reject(new Error(`the plugin exited (${code}) before printing its port:\n${stdout}${stderr}`)),
    );
  });
  const client: GrpcClient = new ResourceProviderClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const call = <T>(invoke: (callback: (error: Error | null, response?: T) => void) => void) =>
    new Promise<T>((resolve, reject) =>
      invoke((error, response) => (error ? reject(error) : resolve(response!))),
    );
  return {
    async schema() {
      const response = await call<{ getSchema(): string }>((cb) =>
        client.getSchema(new GetSchemaRequest(), cb),
      );
      return JSON.parse(response.getSchema());
    },
    async version() {
      const response = await call<{ getVersion(): string }>((cb) => client.getPluginInfo(new Empty(), cb));
      return response.getVersion();
    },
    stderr: () => stderr,
    async stop() {
      client.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
