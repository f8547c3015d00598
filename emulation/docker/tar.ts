/**
 * A one-file tar archive (POSIX ustar), as the docker provider builds for each container upload and
 * hands to the daemon's archive endpoint (PUT /containers/{id}/archive?path=/). The daemon extracts
 * it with the header's uid, gid and mode (moby/go-archive), so the header is where ownership and
 * permissions of a delivered file are decided: this helper writes exactly those fields.
 *
 * Format (512-byte blocks): header | content padded to 512 | two zero blocks.
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

/** Writes `value` as a NUL-terminated, zero-padded octal number filling `width` bytes. */
function writeOctal(header: Buffer, offset: number, width: number, value: number, field: string): void {
  const digits = value.toString(8);
  if (!Number.isInteger(value) || value < 0 || digits.length > width - 1) {
    throw new Error(`tar: ${field} ${value} does not fit a ustar header`);
  }
  header.write(`${digits.padStart(width - 1, "0")}\0`, offset, width, "ascii");
}

export function oneFileTar(file: TarFile): Buffer {
  const header = Buffer.alloc(BLOCK);
  // ustar's name field holds 100 bytes; the components' container paths are short.
  if (Buffer.byteLength(file.name) > 100) throw new Error(`tar: path longer than 100 bytes: ${file.name}`);
  header.write(file.name, 0, 100, "utf8");
  writeOctal(header, 100, 8, file.mode, "mode");
  writeOctal(header, 108, 8, file.uid, "uid");
  writeOctal(header, 116, 8, file.gid, "gid");
  writeOctal(header, 124, 12, file.content.length, "size");
  writeOctal(header, 136, 12, Math.floor(file.mtime), "mtime");
  header.write("0", 156, 1, "ascii"); // typeflag: regular file
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  // The checksum is computed with its own field read as eight spaces.
  header.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");

  const padding = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, file.content, Buffer.alloc(padding), Buffer.alloc(2 * BLOCK)]);
}
