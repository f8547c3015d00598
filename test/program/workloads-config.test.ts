/**
 * The stack key `mtls-pki:workloads` (components/workloads-config.ts): the sidecar stack's
 * workloads as the program reads them, the default of none, and every bad input refused with one
 * line naming the key (down to the field) under the header naming the stack file, together with any
 * other bad key of the same stack file.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../components/config.ts";
import { stackConfig } from "../support/stack-files.ts";

const server = { name: "hello", role: "server", image: "my/hello:1", port: 8080, protocol: "http" };
const caller = {
  name: "caller",
  role: "client",
  image: "my/caller:1",
  calls: [{ server: "hello", localPort: 15001 }],
};

const parseWith = (values: Record<string, string>, stack = "sidecar") =>
  parseConfig((key) => values[key], stack);
const withWorkloads = (workloads: unknown, extra: Record<string, string> = {}) =>
  parseWith({ workloads: JSON.stringify(workloads), ...extra });

/** The problem lines of a refused config, without the header. */
function problems(workloads: unknown, extra: Record<string, string> = {}): string[] {
  try {
    withWorkloads(workloads, extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const [header, ...lines] = (error as Error).message.split("\n");
    expect(header).toBe('Invalid configuration for stack "sidecar" (Pulumi.sidecar.yaml):');
    return lines.map((line) => line.replace(/^ {2}- /, ""));
  }
  throw new Error(`expected ${JSON.stringify(workloads)} to be refused`);
}

describe("mtls-pki:workloads", () => {
  it("is empty by default", () => {
    expect(parseWith({}).workloads).toEqual([]);
    expect(parseWith({ workloads: "[]" }).workloads).toEqual([]);
  });

  it("reads the sidecar stack's server and client workloads", () => {
    expect(parseConfig((key) => stackConfig("sidecar")[key], "sidecar").workloads).toEqual([
      { name: "hello", role: "server", image: "mtls-demo-app:local", port: 8080, protocol: "http" },
      {
        name: "caller",
        role: "client",
        image: "mtls-demo-app:local",
        calls: [{ server: "hello", localPort: 15001 }],
      },
    ]);
  });

  it("defaults a server's protocol to http and accepts tcp", () => {
    const { protocol: _http, ...noProtocol } = server;
    expect(withWorkloads([noProtocol]).workloads[0]?.protocol).toBe("http");
    expect(withWorkloads([{ ...server, protocol: "tcp" }]).workloads[0]?.protocol).toBe("tcp");
  });

  it.each([
    [
      "an unknown server",
      [server, { ...caller, calls: [{ server: "nope", localPort: 15001 }] }],
      'mtls-pki:workloads[1].calls[0].server: "nope" is not a server workload of this stack (hello)',
    ],
    [
      "a client as a server",
      [server, caller, { ...caller, name: "other", calls: [{ server: "caller", localPort: 15001 }] }],
      'mtls-pki:workloads[2].calls[0].server: "caller" is not a server workload of this stack (hello)',
    ],
    [
      "a duplicate local port",
      [
        server,
        { name: "db", role: "server", image: "x", port: 5432, protocol: "tcp" },
        {
          ...caller,
          calls: [
            { server: "hello", localPort: 15001 },
            { server: "db", localPort: 15001 },
          ],
        },
      ],
      "mtls-pki:workloads[2].calls[1].localPort: 15001 is already the local port of another call of this workload",
    ],
    [
      "the same server twice",
      [
        server,
        {
          ...caller,
          calls: [
            { server: "hello", localPort: 15001 },
            { server: "hello", localPort: 15002 },
          ],
        },
      ],
      'mtls-pki:workloads[1].calls[1].server: "hello" is called twice; one call (one local port) per server',
    ],
    [
      "a local port out of range",
      [server, { ...caller, calls: [{ server: "hello", localPort: 0 }] }],
      "mtls-pki:workloads[1].calls[0].localPort: 0 is not a port (1 to 65535)",
    ],
    [
      "a local port a tunnel's status listener takes",
      [server, { ...caller, calls: [{ server: "hello", localPort: 9091 }] }],
      "mtls-pki:workloads[1].calls[0].localPort: 9091 is taken by a tunnel's status listener (9091); choose another",
    ],
    [
      "a client without calls",
      [server, { ...caller, calls: [] }],
      "mtls-pki:workloads[1].calls: [] is not a list of calls; a client workload calls at least one server ({ server, localPort })",
    ],
    [
      "an invalid name",
      [{ ...server, name: "Hello_World" }],
      'mtls-pki:workloads[0].name: "Hello_World" is not a valid name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit: it becomes a DNS name)',
    ],
    [
      "a duplicate name",
      [server, { ...server }],
      'mtls-pki:workloads[1].name: "hello" is used by another workload',
    ],
    [
      "the server's name",
      [{ ...server, name: "mtls-server" }],
      "mtls-pki:workloads[0].name: \"mtls-server\" is already the server's or a client's name; choose another",
    ],
    [
      "a client's name",
      [{ ...server, name: "client-a" }],
      "mtls-pki:workloads[0].name: \"client-a\" is already the server's or a client's name; choose another",
    ],
    [
      "a bad protocol",
      [{ ...server, protocol: "udp" }],
      'mtls-pki:workloads[0].protocol: "udp" is not http or tcp',
    ],
    [
      "a bad role",
      [{ ...server, role: "proxy" }],
      'mtls-pki:workloads[0].role: "proxy" is not server or client',
    ],
    [
      "no image",
      [{ ...server, image: "" }],
      'mtls-pki:workloads[0].image: "" is not an image name (the app\'s image, e.g. mtls-demo-app:local)',
    ],
    [
      "a server without a port",
      [{ ...server, port: undefined }],
      "mtls-pki:workloads[0].port: undefined is not a port (the app's plain port, 1 to 65535)",
    ],
    [
      "a server port the sidecar takes",
      [{ ...server, port: 8443 }],
      "mtls-pki:workloads[0].port: 8443 is taken by the server sidecar in the workload's namespace; choose another",
    ],
    [
      "calls on a server",
      [{ ...server, calls: [] }],
      "mtls-pki:workloads[0].calls: is for a client workload; this is a server",
    ],
    [
      "a port on a client",
      [server, { ...caller, port: 80 }],
      "mtls-pki:workloads[1].port: is for a server workload; this is a client",
    ],
    [
      "an unknown field",
      [{ ...server, replicas: 3 }],
      "mtls-pki:workloads[0].replicas: is not a workload field (name, role, image, port, protocol, calls)",
    ],
    [
      "not an object",
      ["hello"],
      'mtls-pki:workloads[0]: "hello" is not a workload (an object with name, role, image, ...)',
    ],
    [
      "not a list",
      { name: "hello" },
      'mtls-pki:workloads: {"name":"hello"} is not a list of workloads (name, role, image, ...)',
    ],
  ])("refuses %s with one line naming the key", (_what, workloads, line) => {
    expect(problems(workloads)).toEqual([line]);
  });

  it("reports bad workloads together with the stack's other bad keys", () => {
    expect(problems([{ ...server, protocol: "udp" }], { tlsPolicy: "old" })).toEqual([
      'mtls-pki:tlsPolicy: "old" is not one of modern, intermediate',
      'mtls-pki:workloads[0].protocol: "udp" is not http or tcp',
    ]);
  });
});
