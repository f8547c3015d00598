/**
 * Regenerates plugin/schema.json, the checked-in copy of the schema this package serves to other
 * languages (what `pulumi package get-schema .` prints), from the components' TypeScript types:
 *
 *   npm run schema
 *
 * Run it after changing an arg or an output of a component that provider.ts exports (or of the
 * library component it wraps), and review the diff: it is the change every other language sees.
 * test/plugin/schema.test.ts fails until the file matches what the analyzer infers.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { MtlsPkiProvider } from "../plugin/host.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCHEMA_FILE = fileURLToPath(new URL("../plugin/schema.json", import.meta.url));

const schema = JSON.parse(await new MtlsPkiProvider(ROOT).getSchema());
await writeFile(SCHEMA_FILE, `${JSON.stringify(schema, null, 2)}\n`);
// In the layout `npm run lint` checks (short arrays on one line), so the lint stays clean.
execFileSync(
  fileURLToPath(new URL("../node_modules/.bin/biome", import.meta.url)),
  ["format", "--write", SCHEMA_FILE],
  {
    stdio: "ignore",
  },
);
console.log(`wrote ${SCHEMA_FILE}`);
