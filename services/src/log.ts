/**
 * Structured logs: one JSON object per line, one line per event. Every field goes through a guard
 * that replaces anything that looks like PEM (a certificate or, worse, a private key) or raw bytes,
 * so no code path can put key material into a log by accident.
 */

export type Fields = Record<string, unknown>;
export type Level = "info" | "warn" | "error";

export interface Logger {
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
}

export interface LoggerOptions {
  service: string;
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  /** Drop info lines (the client's --once mode prints only its result). */
  quiet?: boolean;
}

const PEM_MARKER = /-----BEGIN [A-Z0-9 ]+-----/;

/** Replaces PEM blocks, byte buffers and key objects with a placeholder; keeps structure otherwise. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return PEM_MARKER.test(value) ? "[redacted: PEM material]" : value;
  if (value === null || typeof value !== "object") return value;
  if (depth > 6) return "[truncated]";
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return "[redacted: bytes]";
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return scrub(
      code === undefined ? { message: value.message } : { message: value.message, code },
      depth + 1,
    );
  }
  if (typeof (value as { export?: unknown }).export === "function") return "[redacted: key object]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const out: Fields = {};
  for (const [name, item] of Object.entries(value)) {
    if (item !== undefined) out[name] = scrub(item, depth + 1);
  }
  return out;
}

export function formatLine(service: string, level: Level, event: string, fields: Fields = {}): string {
  const record = scrub({ time: new Date().toISOString(), level, service, event, ...fields });
  return `${JSON.stringify(record)}\n`;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const emit = (level: Level, event: string, fields?: Fields) => {
    if (level === "info" && options.quiet) return;
    write(formatLine(options.service, level, event, fields));
  };
  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
  };
}
