/**
 * Event-driven waiting on the API server, as the plugin's informers do: each source is listed,
 * then watched from the list's resourceVersion (listed again when the server ends the watch);
 * every object reaches the handler as an event, in order per source. Waiting ends when the
 * handler (or a timer it set) calls `done`, or at the timeout.
 */
import type { KubeApi, KubeObject, WatchEvent } from "./api.ts";

export interface Source {
  /** The collection's path, e.g. /apis/apps/v1/namespaces/ns/replicasets. */
  path: string;
  fieldSelector?: string;
  /** Called with each list's items, before they reach the handler as events. */
  onList?: (items: readonly KubeObject[], control: WaitControl) => void;
}

export interface WaitControl {
  /** Ends the wait successfully. */
  done(): void;
}

/**
 * Resolves true when `done` was called, false at the timeout. `handle` gets the source's index and
 * each event; an error it throws ends the wait with that error.
 */
export async function waitForEvents(
  api: KubeApi,
  sources: readonly Source[],
  handle: (source: number, event: WatchEvent, control: WaitControl) => void,
  timeoutMs: number,
): Promise<boolean> {
  const abort = new AbortController();
  let finished = false;
  let failure: unknown;
  const control: WaitControl = {
    done() {
      finished = true;
      abort.abort();
    },
  };
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const step = (index: number, event: WatchEvent): boolean => {
    if (finished || abort.signal.aborted) return true;
    try {
      handle(index, event, control);
    } catch (err) {
      failure = err;
      abort.abort();
    }
    return finished || abort.signal.aborted;
  };
  const follow = async (index: number, source: Source) => {
    const query = { fieldSelector: source.fieldSelector };
    while (!abort.signal.aborted) {
      const list = await api.request<{ metadata: { resourceVersion: string }; items: KubeObject[] }>(
        "GET",
        source.path,
        { query },
      );
      source.onList?.(list.items, control);
      if (finished) return;
      for (const item of list.items) if (step(index, { type: "ADDED", object: item })) return;
      const query2 = { ...query, resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false };
      if (await api.watch(source.path, query2, (event) => step(index, event), abort.signal)) return;
    }
  };
  try {
    await Promise.all(
      sources.map((source, index) =>
        follow(index, source).catch((err: unknown) => {
          if (!abort.signal.aborted) {
            failure ??= err;
            abort.abort();
          }
        }),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
  if (failure !== undefined) throw failure;
  return finished;
}

export function fieldSelectorName(name: string): string {
  return `metadata.name=${name}`;
}
