/**
 * Constructs a component of the package the way a program in another language gets it: through
 * the package's component provider (plugin/host.ts), with the inputs crossing the wire as the
 * engine hands them to a provider's Construct, and the outputs serialised as the provider's gRPC
 * server returns them.
 *
 * Inputs: every Output becomes an output value (value, known, secret), every plain value stays
 * plain, then the SDK's own `deserializeInputs` (provider/server.js, what the gRPC server calls
 * before `construct`) turns them back into what the component's constructor receives. Outputs:
 * `serializeResourceProperties`, as the server does with `construct`'s state, so a secret output
 * arrives secret-wrapped, as the consumer's SDK receives it.
 *
 * Runs inside a program under the emulated engine (runProgram), which stands in for the engine's
 * resource monitor: the component's children register with it as a program's would.
 */
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
// The gRPC server's own input decoding, not part of the SDK's typings.
// @ts-expect-error no declaration file for this module of the SDK
import { deserializeInputs } from "@pulumi/pulumi/provider/server.js";
// The SDK's count of registrations in flight (what the gRPC server awaits after `construct`).
// @ts-expect-error no declaration for this internal of the SDK
import { waitForRPCs } from "@pulumi/pulumi/runtime/settings.js";
import { MtlsPkiProvider, PACKAGE_NAME } from "../../../plugin/host.ts";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface OutputInternals {
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
  promise(withUnknowns?: boolean): Promise<unknown>;
}

/** A value as the engine sends it to Construct: Outputs as output values, at any depth. */
async function wireValue(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as unknown as OutputInternals;
    const [known, secret] = await Promise.all([output.isKnown, output.isSecret]);
    return {
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialOutputValueSig,
      ...(known ? { value: await wireValue(await output.promise()) } : {}),
      ...(secret ? { secret: true } : {}),
    };
  }
  if (Array.isArray(value)) return Promise.all(value.map(wireValue));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await wireValue(v)]));
    return Object.fromEntries(entries);
  }
  return value;
}

export interface Constructed {
  urn: string;
  /** The component's outputs as `construct` returned them (Outputs). */
  outputs: Record<string, pulumi.Output<unknown>>;
  /** The same, serialised as the provider returns them to the engine (secrets wrapped). */
  wire: Record<string, unknown>;
}

/** One provider for a test file: its first `construct` runs the schema analysis (seconds). */
export function newProvider(): MtlsPkiProvider {
  return new MtlsPkiProvider(ROOT);
}

/**
 * `new <component>(name, inputs)` as a remote component: `component` is the class name, the
 * type `mtls-pki:index:<component>`.
 */
export async function construct(
  provider: MtlsPkiProvider,
  component: string,
  name: string,
  inputs: Record<string, unknown>,
  options: pulumi.ComponentResourceOptions = {},
): Promise<Constructed> {
  const wire = await wireValue(inputs);
  const received = await deserializeInputs({ toJavaScript: () => wire }, new Map());
  const result = await provider.construct(name, `${PACKAGE_NAME}:index:${component}`, received, options);
  const [state] = await pulumi.runtime.serializeResourceProperties(
    `construct(${component}, ${name})`,
    result.state,
  );
  return {
    urn: (await (result.urn as unknown as OutputInternals).promise()) as string,
    outputs: result.state as Record<string, pulumi.Output<unknown>>,
    wire: state,
  };
}

/** Whether a serialised output arrived secret-wrapped. */
export function isSecretOnTheWire(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

/**
 * Waits until every registration the program has started has reached the engine: after a refusal,
 * a component that registered itself before refusing shows up in the engine's records.
 */
export async function settleRegistrations(): Promise<void> {
  await waitForRPCs();
}
