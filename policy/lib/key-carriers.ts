/**
 * Where a private key is delivered on purpose: a container upload (`docker.Container.uploads`)
 * and a swarm secret (`docker.Secret.data`). These decide which files the key-file rules apply to
 * and which workloads hold an identity.
 */

import { isPrivateKeyText } from "./key-material";
import { isSecretAt } from "./secrets";
import { keyDependencies, type StackResource } from "./stack-graph";
import { asList, asObject, isUnknown, type Props } from "./values";

/** A file name that says "key" (tls.key, server-key.pem, id_ecdsa_key): used only when the content is not known. */
export function looksLikeKeyFile(file: unknown): boolean {
  if (typeof file !== "string" || isUnknown(file)) return false;
  const base = file.split("/").pop() ?? "";
  return /key/i.test(base);
}

export interface Upload {
  index: number;
  entry: Props;
  file: string;
}

export function uploadsOf(container: Props): Upload[] {
  return asList(container.uploads).flatMap((item, index) => {
    const entry = asObject(item);
    if (!entry) return [];
    const file = typeof entry.file === "string" && !isUnknown(entry.file) ? entry.file : "(unknown file)";
    return [{ index, entry, file }];
  });
}

/**
 * Why an upload counts as a private key, or undefined: its content is a key, or is secret (a key
 * from tls.PrivateKey always is, whatever wraps it), or is not known yet and the file is named
 * like a key.
 */
export function keyUploadReason(container: Props, upload: Upload): string | undefined {
  for (const field of ["content", "contentBase64"] as const) {
    const value = upload.entry[field];
    if (typeof value === "string" && !isUnknown(value) && isPrivateKeyText(value))
      return "its content is a private key";
    if (value !== undefined && isSecretAt(container, ["uploads", upload.index, field]))
      return "its content is secret";
  }
  const content = upload.entry.content ?? upload.entry.contentBase64;
  if ((content === undefined || isUnknown(content)) && looksLikeKeyFile(upload.entry.file)) {
    return "its file is named like a key and its content is not known yet";
  }
  return undefined;
}

/** Whether a docker.Secret carries a private key: its data came from one, or decodes to one. */
export function secretCarriesKey(secret: StackResource): boolean {
  if (keyDependencies(secret, "data").length > 0) return true;
  const data = secret.props.data;
  return typeof data === "string" && !isUnknown(data) && isPrivateKeyText(data);
}
