/**
 * The stack's namespace on Kubernetes: every object of the stack lives in it, and deleting the
 * stack deletes it (the provider waits until it is gone). It enforces the restricted Pod Security
 * Standard (the API server's PodSecurity admission refuses any pod that breaks it), so a pod spec
 * that loosened the components' hardening would fail its rollout instead of running.
 *
 * A k8s.core.v1.Namespace with those labels, as SwarmNetwork is a docker.Network with its settings.
 * Pass its `metadata.name` to the components' `namespace`.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { ArgChecks } from "../arg-checks.ts";
import { PART_OF } from "./pod-parts.ts";

export const SERVICE_NAMESPACE_TYPE = "mtls:kubernetes:ServiceNamespace";
/** The label naming the stack that owns the namespace (`<project>.<stack>`). */
export const OWNER_LABEL = "mtls-pki/owner";

export interface ServiceNamespaceArgs {
  /**
   * The namespace's name. Default: auto-named `<name>-<suffix>`. Changing it replaces the
   * namespace and every object in it.
   */
  namespaceName?: pulumi.Input<string>;
  /**
   * Who owns it, e.g. `<project>.<stack>`: the value of its `mtls-pki/owner` label. Default none.
   * Changing it updates the label in place.
   */
  owner?: string;
}

const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export class ServiceNamespace extends k8s.core.v1.Namespace {
  constructor(name: string, args: ServiceNamespaceArgs = {}, opts?: pulumi.CustomResourceOptions) {
    const checks = new ArgChecks(SERVICE_NAMESPACE_TYPE, name);
    if (args.owner !== undefined && !LABEL_VALUE.test(args.owner)) {
      checks.add(
        "owner",
        `${JSON.stringify(args.owner)} is not a label value (at most 63 letters, digits, ".", "-", "_")`,
      );
    }
    checks.done();
    super(
      name,
      {
        metadata: {
          ...(args.namespaceName === undefined ? {} : { name: args.namespaceName }),
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": "pulumi",
            ...(args.owner === undefined ? {} : { [OWNER_LABEL]: args.owner }),
          },
        },
      },
      opts,
    );
  }
}
