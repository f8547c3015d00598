/** The image entry point's role dispatch (services/src/role.ts). */
import { describe, expect, it } from "vitest";
import { pickRole } from "../../../services/src/role.ts";

describe("role dispatch", () => {
  it("runs the server by default and passes the rest on", () => {
    expect(pickRole([])).toEqual({ role: "server", rest: [] });
    expect(pickRole(["client", "--once"])).toEqual({ role: "client", rest: ["--once"] });
    expect(pickRole(["--once"])).toEqual({ role: "server", rest: ["--once"] });
    expect(() => pickRole(["proxy"])).toThrow('unknown role "proxy": expected server or client');
  });
});
