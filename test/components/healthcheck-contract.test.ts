/**
 * One definition of the health check and of the base image, on both sides of the contract: the
 * services/Dockerfile (which cannot import TypeScript) must say what services/src/contract.ts and
 * the components say, so that `docker run` of the image and the containers the components declare
 * are checked the same way, and every Dockerfile defaults to the components' base image.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HEALTHCHECK_ARGS } from "../../components/mtls-service-args.ts";
import { DEFAULT_BASE_IMAGE } from "../../components/service-image.ts";
import { HEALTHCHECK } from "../../services/src/contract.ts";

const dockerfile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** The HEALTHCHECK instruction of a Dockerfile, continuation lines joined. */
function healthcheckInstruction(text: string): string {
  const joined = text.replace(/\s*\\\n\s*/g, " ");
  const line = joined.split("\n").find((l) => l.startsWith("HEALTHCHECK "));
  if (!line) throw new Error("the Dockerfile has no HEALTHCHECK instruction");
  return line.trim();
}

describe("the health check and the base image, defined once", () => {
  it("the image's HEALTHCHECK has the contract's command and timings", () => {
    const { command, intervalSeconds, timeoutSeconds, startPeriodSeconds, retries } = HEALTHCHECK;
    expect(healthcheckInstruction(dockerfile("services/Dockerfile"))).toBe(
      `HEALTHCHECK --interval=${intervalSeconds}s --timeout=${timeoutSeconds}s ` +
        `--start-period=${startPeriodSeconds}s --retries=${retries} CMD ${JSON.stringify(command).replace(/","/g, '", "')}`,
    );
  });

  it("the components' health check is the contract's, in the provider's duration form", () => {
    expect(HEALTHCHECK_ARGS).toEqual({
      tests: ["CMD", ...HEALTHCHECK.command],
      interval: `${HEALTHCHECK.intervalSeconds}s`,
      timeout: `${HEALTHCHECK.timeoutSeconds}s`,
      startPeriod: `${HEALTHCHECK.startPeriodSeconds}s`,
      retries: HEALTHCHECK.retries,
    });
  });

  it("every Dockerfile defaults to the components' base image", () => {
    for (const path of ["services/Dockerfile", "components/delivery-image/Dockerfile"]) {
      expect(dockerfile(path), path).toContain(`ARG BASE_IMAGE=${DEFAULT_BASE_IMAGE}\n`);
    }
  });
});
