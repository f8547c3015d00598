/**
 * The stack keys `mtls-pki:workloads` (components/workloads-config.ts) and
 * `mtls-pki:workloadSubnetPool`: the sidecar stack's workloads as the program reads them, the default
 * of none, each workload's private subnet (a stable slot of the pool, or its own), and every bad
 * input refused with one line naming the key (down to the field) under the header naming the stack
 * file, together with any other bad key of the same stack file.
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

  it("reads the sidecar stack's server and client workloads, each with a /28 of the default pool", () => {
    const config = parseConfig((key) => stackConfig("sidecar")[key], "sidecar");
    expect(config.workloadSubnetPool).toBe("172.16.0.0/16");
    expect(config.workloads).toEqual([
      {
        name: "hello",
        role: "server",
        image: "mtls-demo-app:local",
        port: 8080,
        protocol: "http",
        subnet: expect.stringMatching(/^172\.16\.\d+\.\d+\/28$/),
      },
      {
        name: "caller",
        role: "client",
        image: "mtls-demo-app:local",
        calls: [{ server: "hello", localPort: 15001 }],
        subnet: expect.stringMatching(/^172\.16\.\d+\.\d+\/28$/),
      },
    ]);
  });

  it("reads the app's settings: env, user, read-only root, egress, a subnet of its own", () => {
    const [workload] = withWorkloads([
      {
        ...server,
        env: { LOG_LEVEL: "debug" },
        user: "",
        readOnly: false,
        egress: true,
        subnet: "10.9.0.0/27",
      },
    ]).workloads;
    expect(workload).toMatchObject({
      env: { LOG_LEVEL: "debug" },
      user: "",
      readOnly: false,
      egress: true,
      subnet: "10.9.0.0/27",
    });
  });

  it("keeps each workload's subnet when workloads are added, removed or reordered", () => {
    const subnetsOf = (workloads: unknown[], stack = "sidecar") =>
      Object.fromEntries(
        parseWith({ workloads: JSON.stringify(workloads) }, stack).workloads.map((w) => [w.name, w.subnet]),
      );
    const db = { name: "db", role: "server", image: "x", port: 5432, protocol: "tcp" };
    const before = subnetsOf([server, caller]);
    const after = subnetsOf([db, caller, server]);
    expect(after.hello).toBe(before.hello);
    expect(after.caller).toBe(before.caller);
    expect(subnetsOf([caller, server])).toEqual(before);
    expect(new Set(Object.values(after)).size).toBe(3);
    // Another stack with the same names gets other subnets, so two stacks can share a host.
    expect(subnetsOf([server, caller], "other").hello).not.toBe(before.hello);
  });

  it("takes the subnets from the pool given", () => {
    const { workloads } = withWorkloads([server, caller], { workloadSubnetPool: "10.50.0.0/20" });
    for (const w of workloads) expect(w.subnet).toMatch(/^10\.50\.(1[0-5]|\d)\.\d+\/28$/);
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
      'mtls-pki:workloads[1].calls[1].server: "hello" is called twice; one call (one tunnel) per server',
    ],
    [
      "a local port out of range",
      [server, { ...caller, calls: [{ server: "hello", localPort: 0 }] }],
      "mtls-pki:workloads[1].calls[0].localPort: 0 is not a port (1 to 65535)",
    ],
    [
      "a local port a tunnel's status listener takes",
      [server, { ...caller, calls: [{ server: "hello", localPort: 9091 }] }],
      "mtls-pki:workloads[1].calls[0].localPort: 9091 is the tunnel's status port (127.0.0.1:9091); choose another",
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
      "an env that is not a map",
      [{ ...server, env: ["A=1"] }],
      'mtls-pki:workloads[0].env: ["A=1"] is not a map of environment variables (NAME: value)',
    ],
    [
      "an env value that is not a string",
      [{ ...server, env: { PORT: 80 } }],
      "mtls-pki:workloads[0].env.PORT: 80 is not a string; quote it in the stack file",
    ],
    [
      "a bad user",
      [{ ...server, user: "me and you" }],
      'mtls-pki:workloads[0].user: "me and you" is not a user (uid:gid, a name the image knows, or "" for the image\'s own)',
    ],
    [
      "a bad readOnly",
      [{ ...server, readOnly: "yes" }],
      'mtls-pki:workloads[0].readOnly: "yes" is not true or false',
    ],
    [
      "a subnet that is not a network",
      [{ ...server, subnet: "10.1.2.3/24" }],
      'mtls-pki:workloads[0].subnet: "10.1.2.3/24" is not a network address: its host bits are set (the network is 10.1.2.0/24)',
    ],
    [
      "overlapping subnets of their own",
      [
        { ...server, subnet: "10.9.0.0/24" },
        { ...caller, subnet: "10.9.0.16/28" },
      ],
      'mtls-pki:workloads[1].subnet: 10.9.0.16/28 overlaps the subnet of "hello" (workloads[0]) (10.9.0.0/24); give one of them another',
    ],
    [
      "a client with more tunnels than its /28 holds",
      [
        ...["a", "b", "c", "d", "e", "f"].map((n) => ({ ...server, name: n })),
        { ...caller, calls: ["a", "b", "c", "d", "e", "f"].map((n) => ({ server: n, localPort: 15001 })) },
      ],
      "mtls-pki:workloads[6]: 7 containers (the app and 6 sidecars) need up to 14 addresses (each may run twice while it is replaced), more than subnet SUBNET has (13); give the workload a /27 or wider",
    ],
    [
      "a pool that is not a network",
      [server],
      'mtls-pki:workloadSubnetPool: "172.16.0.0" is not an IPv4 network (a.b.c.d/prefix, e.g. 172.16.0.0/16)',
      { workloadSubnetPool: "172.16.0.0" },
    ],
    [
      "a pool too small",
      [server, caller],
      "mtls-pki:workloadSubnetPool: 172.16.0.0/28 holds 1 subnet of /28, fewer than the 2 workloads that take theirs from it; give a wider pool (a /16 holds 4096)",
      { workloadSubnetPool: "172.16.0.0/28" },
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
      "mtls-pki:workloads[0].replicas: is not a workload field (name, role, image, port, protocol, calls, env, user, readOnly, egress, subnet)",
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
  ] as [string, unknown, string, Record<string, string>?][])(
    "refuses %s with one line naming the key",
    (_what, workloads, line, extra = {}) => {
      const found = problems(workloads, extra);
      // A subnet the pool picked is named as it is; the line is otherwise fixed.
      const subnet = /subnet (\d+\.\d+\.\d+\.\d+\/\d+) has/.exec(found[0] ?? "")?.[1];
      expect(found).toEqual([subnet ? line.replace("SUBNET", subnet) : line]);
    },
  );

  it("refuses two workloads whose names fall on the same slot of the pool, suggesting a free one", () => {
    // A pool of two slots, where "a" and "b" share the first.
    expect(
      problems(
        [
          { ...server, name: "a" },
          { ...server, name: "b" },
        ],
        { workloadSubnetPool: "10.9.0.0/27" },
      ),
    ).toEqual([
      'mtls-pki:workloads[1].name: "b" falls on the same subnet of workloadSubnetPool 10.9.0.0/27 as "a" (workloads[0]) (10.9.0.0/28); give the one added last a subnet of its own (workloads[1].subnet, e.g. 10.9.0.16/28)',
    ]);
  });

  it("gives the sidecar stack's workloads the same slots in every release (another slot would replace their networks)", () => {
    const config = parseConfig((key) => stackConfig("sidecar")[key], "sidecar");
    expect(Object.fromEntries(config.workloads.map((w) => [w.name, w.subnet]))).toEqual({
      hello: "172.16.67.240/28",
      caller: "172.16.14.96/28",
    });
  });

  it("reports bad workloads together with the stack's other bad keys", () => {
    expect(problems([{ ...server, protocol: "udp" }], { tlsPolicy: "old" })).toEqual([
      'mtls-pki:tlsPolicy: "old" is not one of modern, intermediate',
      'mtls-pki:workloads[0].protocol: "udp" is not http or tcp',
    ]);
  });
});
