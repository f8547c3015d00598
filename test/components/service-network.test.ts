/**
 * ServiceNetwork is a docker.Network with the services' settings: one resource, the name given (so a
 * stack created before the class existed keeps its network), a user-defined bridge with external
 * access unless `internal`. Preview, no Docker engine needed.
 */
import { describe, expect, it } from "vitest";
import { ServiceNetwork } from "../../components/index.ts";
import { refusal, runComponents, TYPES } from "./harness.ts";

async function preview(program: () => void) {
  return runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );
}

describe("ServiceNetwork", () => {
  it("is one user-defined bridge network under the name given, not internal by default", async () => {
    const run = await preview(() => new ServiceNetwork("mtls"));
    expect(run.run.registrations.map((r) => `${r.type} ${r.name}`)).toEqual([`${TYPES.network} mtls`]);
    const network = run.child(TYPES.network, "mtls");
    expect(network.parent).toBeUndefined();
    expect(network.urn).toBe("urn:pulumi:test::mtls-pki::docker:index/network:Network::mtls");
    expect(network.inputs).toEqual({ driver: "bridge", internal: false });
  });

  it("passes a Docker name and internal through", async () => {
    const run = await preview(() => new ServiceNetwork("mtls", { networkName: "mtls-dev", internal: true }));
    expect(run.child(TYPES.network, "mtls").inputs).toEqual({
      name: "mtls-dev",
      driver: "bridge",
      internal: true,
    });
  });

  it("refuses a name Docker would refuse, with one line naming the component, before declaring it", async () => {
    const { message, registrations } = await refusal(
      () => new ServiceNetwork("mtls", { networkName: "no spaces" }),
      {
        preview: true,
      },
    );
    expect(message).toContain(
      'mtls:docker:ServiceNetwork "mtls": networkName: "no spaces" is not a Docker network name',
    );
    expect(registrations).toEqual([]);
  });
});
