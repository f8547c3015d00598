/**
 * The plugin's await logic for v1 Services (pulumi-kubernetes provider/pkg/await/service.go,
 * `serviceInitAwaiter`), on the Service and its Endpoints object:
 *
 * - a Service with a selector (not headless, not ExternalName) is ready once its Endpoints object
 *   has no not-ready address and has settled: no change for 10 s after its last event (the plugin
 *   waits that long "for any stragglers"). Zero endpoints is ready too (pulumi/pulumi-kubernetes#3142);
 * - a Service without a selector, headless or ExternalName is ready once it exists;
 * - a LoadBalancer also needs an ingress address in its status.
 *
 * At the timeout it still succeeds when the Service is ready and no endpoint is pending; otherwise
 * it fails with `'<name>' timed out waiting to be Ready` and the plugin's sub-errors.
 */
import type { KubeApi, KubeObject } from "./api.ts";
import type { AwaitFailure } from "./await-pods.ts";
import { fieldSelectorName, waitForEvents } from "./watch.ts";

/** service.go: `time.Sleep(10 * time.Second)` after every Endpoints event. */
export const ENDPOINTS_SETTLE_MS = 10_000;

type Block = Record<string, unknown>;

export async function awaitService(
  api: KubeApi,
  namespace: string,
  current: KubeObject,
  timeoutMs: number,
  settleMs = ENDPOINTS_SETTLE_MS,
): Promise<{ live: KubeObject; failure?: AwaitFailure }> {
  const name = String(current.metadata?.name);
  const spec = (current.spec ?? {}) as Block;
  const type = typeof spec.type === "string" ? spec.type : "ClusterIP";
  const headless = spec.clusterIP === "None";
  const selector = (spec.selector ?? {}) as Block;
  const waitForPods = type !== "ExternalName" && !headless && Object.keys(selector).length > 0;
  let service = current;
  let serviceReady = false;
  let endpointsReady = false;
  let endpointsPending = false;
  let settled = false;
  let settleTimer: NodeJS.Timeout | undefined;
  const success = () => (waitForPods ? serviceReady && settled && !endpointsPending : serviceReady);

  try {
    const ok = await waitForEvents(
      api,
      [
        { path: `/api/v1/namespaces/${namespace}/services`, fieldSelector: fieldSelectorName(name) },
        { path: `/api/v1/namespaces/${namespace}/endpoints`, fieldSelector: fieldSelectorName(name) },
      ],
      (source, event, control) => {
        if (source === 0) {
          serviceReady = false;
          if (event.type === "DELETED") return;
          service = event.object;
          const ingress = ((service.status as Block | undefined)?.loadBalancer as Block | undefined)?.ingress;
          serviceReady = type === "LoadBalancer" ? Array.isArray(ingress) && ingress.length > 0 : true;
        } else {
          settled = false;
          clearTimeout(settleTimer);
          settleTimer = setTimeout(() => {
            settled = true;
            if (success()) control.done();
          }, settleMs);
          endpointsReady = false;
          endpointsPending = false;
          if (event.type === "DELETED") return;
          const subsets = (event.object.subsets ?? []) as Block[];
          for (const subset of subsets) {
            endpointsReady ||= Array.isArray(subset.addresses) && subset.addresses.length > 0;
            endpointsPending ||=
              Array.isArray(subset.notReadyAddresses) && subset.notReadyAddresses.length > 0;
          }
        }
        if (success()) control.done();
      },
      timeoutMs,
    );
    if (ok || (serviceReady && !endpointsPending)) return { live: service };
  } finally {
    clearTimeout(settleTimer);
  }
  const subErrors: string[] = [];
  if (type !== "ExternalName" && !headless && !endpointsReady) {
    subErrors.push(
      "Service does not target any Pods. Selected Pods may not be ready, or field '.spec.selector' may not match labels on any Pods",
    );
  }
  if (type === "LoadBalancer" && !serviceReady) {
    subErrors.push("Service was not allocated an IP address; does your cloud provider support this?");
  }
  return { live: service, failure: { message: `'${name}' timed out waiting to be Ready`, subErrors } };
}
