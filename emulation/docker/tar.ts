/**
 * Tar archives (POSIX ustar), as the docker provider hands them to the daemon:
 *
 * - one file per container upload (PUT /containers/{id}/archive?path=/). The daemon extracts it
 *   with the header's uid, gid and mode (moby/go-archive), so the header is where ownership and
 *   permissions of a delivered file are decided: `oneFileTar` writes exactly those fields;
 * - a build context (POST /build), directories, files and symlinks, with uid/gid 0 as the
 *   provider writes it: `tarArchive`.
 *
 * Format (512-byte blocks): per entry a header and its content padded to 512; two zero blocks.
 */

const BLOCK = 512;

export interface TarFile {
  /** Path inside the archive; the provider uses the absolute container path as given. */
  name: string;
  content: Buffer;
  /** Permission bits, e.g. 0o400. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export type TarEntry =
  | ({ type: "file" } & TarFile)
  | ({ type: "directory" } & Omit<TarFile, "content">)
  | ({ type: "symlink"; target: string } & Omit<TarFile, "content">);

const TYPEFLAG = { file: "0", symlink: "2", directory: "5" } as const;

/** Writes `value` as a NUL-terminated, zero-padded octal number filling `width` bytes. */
function writeOctal(header: Buffer, offset: number, width: number, value: number, field: string): void {
  const digits = value.toString(8);
  if (!Number.isInteger(value) || value < 0 || digits.length > width - 1) {
    throw new Error(`tar: ${field} ${value} does not fit a ustar header`);
  }
  header.write(`${digits.padStart(width - 1, "0")}\0`, offset, width, "ascii");
}

/** ustar keeps up to 100 bytes in `name` and up to 155 more, split at a "/", in `prefix`. */
function splitName(name: string): { name: string; prefix: string } {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: "" };
  for (let cut = name.indexOf("/"); cut !== -1; cut = name.indexOf("/", cut + 1)) {
    const prefix = name.slice(0, cut);
    const rest = name.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { name: rest, prefix };
  }
  throw new Error(`tar: path too long for a ustar header: ${name}`);
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(
    entry.type === "directory" ? `${entry.name.replace(/\/$/, "")}/` : entry.name,
  );
  block.write(name, 0, 100, "utf8");
  writeOctal(block, 100, 8, entry.mode, "mode");
  writeOctal(block, 108, 8, entry.uid, "uid");
  writeOctal(block, 116, 8, entry.gid, "gid");
  writeOctal(block, 124, 12, size, "size");
  writeOctal(block, 136, 12, Math.floor(entry.mtime), "mtime");
  block.write(TYPEFLAG[entry.type], 156, 1, "ascii");
  if (entry.type === "symlink") {
    if (Buffer.byteLength(entry.target) > 100) throw new Error(`tar: link target too long: ${entry.target}`);
    block.write(entry.target, 157, 100, "utf8");
  }
  block.write("ustar\0", 257, 6, "ascii");
  block.write("00", 263, 2, "ascii");
  block.write(prefix, 345, 155, "utf8");
  // The checksum is computed with its own field read as eight spaces.
  block.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return block;
}

export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === "file" ? entry.content : Buffer.alloc(0);
    parts.push(
      header(entry, content.length),
      content,
      Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK),
    );
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export function oneFileTar(file: TarFile): Buffer {
  // The components' container paths are short; a longer one is refused rather than split.
  if (Buffer.byteLength(file.name) > 100) throw new Error(`tar: path longer than 100 bytes: ${file.name}`);
  return tarArchive([{ type: "file", ...file }]);
}
