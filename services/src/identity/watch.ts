/**
 * Notices changes to the identity files: fs.watch on their directories (files are usually replaced
 * by rename, which a watch on the file itself would lose; Kubernetes swaps a `..data` symlink), a
 * debounce so that three files written one after another give one reload, and a slow poll as a
 * safety net for file systems whose change events get lost (some bind mounts, network shares).
 * SIGHUP is wired by the entry points to the same reload.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export type ReloadTrigger = "change" | "poll" | "signal";

export interface WatchOptions {
  files: string[];
  debounceMs: number;
  /** 0 = no polling. */
  pollMs: number;
  onTrigger: (trigger: ReloadTrigger) => void;
}

export interface IdentityWatcher {
  close(): void;
}

export function watchIdentityFiles(options: WatchOptions): IdentityWatcher {
  const directories = [...new Set(options.files.map((file) => dirname(file)))];
  const names = new Set(options.files.map((file) => basename(file)));
  const watchers = new Map<string, FSWatcher>();
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => options.onTrigger("change"), options.debounceMs);
    debounce.unref();
  };

  const ensureWatching = () => {
    for (const directory of directories) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name)) || String(name).startsWith("..")) changed();
        });
        watcher.on("error", () => {
          // The directory went away (volume remounted): watch it again on the next poll.
          watcher.close();
          watchers.delete(directory);
        });
        watchers.set(directory, watcher);
      } catch {
        // Not there yet: the poll below retries, and meanwhile notices changes itself.
      }
    }
  };

  ensureWatching();
  const poll =
    options.pollMs > 0
      ? setInterval(() => {
          ensureWatching();
          options.onTrigger("poll");
        }, options.pollMs)
      : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poll);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
