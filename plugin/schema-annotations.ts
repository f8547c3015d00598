/**
 * What the SDK's schema analyzer cannot say, added to the schema it infers: which properties are
 * secret. The analyzer reads types and JSDoc only, and a TypeScript type has no "secret" in it,
 * so every property below is marked `secret: true` here. The components make these values secret
 * at run time themselves (the key is a secret Output all the way to the delivery container); the
 * mark tells consumers and their generated SDKs, which add it to `additionalSecretOutputs`.
 *
 * Each entry is a path into the schema; a path the schema no longer has fails the schema (and so
 * `pulumi package get-schema`), so a renamed property cannot silently lose its mark.
 */

/** Paths (from the schema's root) of the properties that hold secrets. */
export const SECRET_PROPERTIES: readonly (readonly string[])[] = [
  // Every issued identity's private key.
  ["resources", "mtls-pki:index:MtlsPki", "properties", "privateKeys"],
  // The key handed to a service, whichever component takes it.
  ["types", "mtls-pki:index:ServiceIdentity", "properties", "privateKeyPem"],
];

type Json = Record<string, unknown>;

/** The analyzer's schema with the secret marks added. */
export function annotateSchema(schema: Json): Json {
  for (const path of SECRET_PROPERTIES) {
    let node: unknown = schema;
    for (const key of path) {
      node = node !== null && typeof node === "object" ? (node as Json)[key] : undefined;
      if (node === undefined) {
        throw new Error(
          `mtls-pki schema: ${path.join(" > ")} is not in the schema; update plugin/schema-annotations.ts`,
        );
      }
    }
    (node as Json).secret = true;
  }
  return schema;
}
