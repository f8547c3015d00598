/**
 * Stands in for the `vitest` module when the PKI step runs outside vitest (see issue-pki.ts).
 * The program runner calls `vi.resetModules()` so that a test file can run the program twice with a
 * fresh module graph; the PKI step runs it once per process, so there is nothing to reset.
 */
export const vi = {
  resetModules(): void {},
};
