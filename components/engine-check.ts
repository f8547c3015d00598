/**
 * Components exist only where a Pulumi engine runs the program (`pulumi preview`, `pulumi up`) or
 * where the SDK's mocks stand in for one (`pulumi.runtime.setMocks`, in tests). A program started
 * with plain `node index.ts` has neither: its resources register nowhere, every output stays
 * undefined forever, and the first arg check would fail on a value that can never come
 * ("networkName: undefined is empty"). So the first component such a program declares stops the
 * process with one line saying how to run it, instead of a stack trace about something else.
 *
 * `pulumi.runtime.getMonitor()` is the SDK's own answer (@pulumi/pulumi runtime/settings.js): the
 * resource monitor client, made from the address the language host hands the program, or the
 * mock monitor under setMocks; undefined with neither. (`hasMonitor()` is no good here: it is
 * false until that client is first made.)
 */
import * as pulumi from "@pulumi/pulumi";

export const NO_ENGINE_EXIT_CODE = 1;

/** Whether a Pulumi engine (or the SDK's mocks) runs this program. */
export function underPulumiEngine(): boolean {
  return pulumi.runtime.getMonitor() !== undefined;
}

/** Stops the process with one line when no Pulumi engine runs the program; `where` names the component. */
export function requirePulumiEngine(where: string): void {
  if (underPulumiEngine()) return;
  process.stderr.write(
    `${where}: declared outside a Pulumi engine; run this program with the Pulumi CLI (pulumi preview, pulumi up), not with node\n`,
  );
  process.exit(NO_ENGINE_EXIT_CODE);
}
