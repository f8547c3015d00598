/**
 * The runtime keys of the stack configuration: `runtime` (docker or swarm) and `serverReplicas`,
 * and the combinations a swarm cannot honour, each refused in one line naming the key.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../components/config.ts";

const parse = (values: Record<string, string>) => parseConfig((key) => values[key], "swarm");
function problemsOf(values: Record<string, string>): string[] {
  try {
    parse(values);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be refused`);
}

describe("runtime configuration", () => {
  it("runs on one Docker engine unless told otherwise, with two server replicas for a swarm", () => {
    expect(parse({})).toMatchObject({ runtime: "docker", serverReplicas: 2 });
    expect(parse({ runtime: "swarm", serverReplicas: "3" })).toMatchObject({
      runtime: "swarm",
      serverReplicas: 3,
    });
  });

  it("refuses an unknown runtime", () => {
    expect(problemsOf({ runtime: "kubernetes" })).toEqual([
      'runtime: "kubernetes" is not one of docker, swarm',
    ]);
  });

  it("refuses fewer than one server replica", () => {
    expect(problemsOf({ runtime: "swarm", serverReplicas: "0" })).toEqual([
      "serverReplicas: 0 is out of range; it must be at least 1",
    ]);
  });

  it("refuses publishPort on a swarm, saying why and what to do instead", () => {
    const [problem, ...rest] = problemsOf({ runtime: "swarm", publishPort: "8443" });
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^publishPort: 8443 cannot be used with runtime swarm: .*cannot bind 127\.0\.0\.1; leave it 0/,
    );
    expect(parse({ runtime: "docker", publishPort: "8443" }).publishPort).toBe(8443);
  });

  it("refuses workloads on a swarm, and takes them on docker", () => {
    const workloads = JSON.stringify([{ name: "hello", role: "server", image: "demo", port: 8080 }]);
    expect(problemsOf({ runtime: "swarm", workloads })).toEqual([
      "workloads: cannot be used with runtime swarm yet: workloads run as containers on one Docker engine; use runtime docker for workloads",
    ]);
    expect(parse({ runtime: "docker", workloads }).workloads).toHaveLength(1);
  });
});
