/**
 * Reads HTTP/1.1 responses off a kept-alive connection, incrementally: bodies framed by
 * Content-Length (our server) or chunked (nginx's echo module streams its answer that way).
 * Enough HTTP for the benchmark's own generators; nothing else.
 */

export interface ReadResponse {
  status: number;
  /** Body bytes, after removing the chunked framing. */
  bodyBytes: number;
  /** The body itself, when the reader was asked to keep it. */
  body?: Buffer;
}

type State =
  | { phase: "head" }
  | { phase: "fixed"; left: number }
  | { phase: "chunk-size" }
  | { phase: "chunk-data"; left: number }
  | { phase: "chunk-crlf" }
  | { phase: "trailer" };

export class ResponseReader {
  #buffer: Buffer = Buffer.alloc(0);
  #state: State = { phase: "head" };
  #status = 0;
  #bodyBytes = 0;
  #kept: Buffer[] = [];
  keepBody = false;

  /** Feeds received bytes; returns the responses they completed (usually none or one). */
  feed(chunk: Buffer): ReadResponse[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const done: ReadResponse[] = [];
    for (;;) {
      const finished = this.#step();
      if (finished === "more") return done;
      if (finished) done.push(finished);
    }
  }

  #body(bytes: Buffer) {
    this.#bodyBytes += bytes.length;
    if (this.keepBody) this.#kept.push(bytes);
  }

  #finish(): ReadResponse {
    const response: ReadResponse = { status: this.#status, bodyBytes: this.#bodyBytes };
    if (this.keepBody) response.body = Buffer.concat(this.#kept);
    this.#state = { phase: "head" };
    this.#bodyBytes = 0;
    this.#kept = [];
    return response;
  }

  /** Consumes what it can: a finished response, undefined (progress, go on), or "more" (needs bytes). */
  #step(): ReadResponse | undefined | "more" {
    const state = this.#state;
    switch (state.phase) {
      case "head": {
        const end = this.#buffer.indexOf("\r\n\r\n");
        if (end < 0) return "more";
        const head = this.#buffer.subarray(0, end).toString("latin1");
        this.#buffer = this.#buffer.subarray(end + 4);
        this.#status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (length) {
          this.#state = { phase: "fixed", left: Number(length[1]) };
        } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          this.#state = { phase: "chunk-size" };
        } else {
          throw new Error(
            `response with neither Content-Length nor chunked encoding: ${head.split("\r\n")[0]}`,
          );
        }
        return undefined;
      }
      case "fixed": {
        if (state.left === 0) return this.#finish();
        if (this.#buffer.length === 0) return "more";
        const take = Math.min(state.left, this.#buffer.length);
        this.#body(this.#buffer.subarray(0, take));
        this.#buffer = this.#buffer.subarray(take);
        state.left -= take;
        return undefined;
      }
      case "chunk-size": {
        const end = this.#buffer.indexOf("\r\n");
        if (end < 0) return "more";
        const size = Number.parseInt(this.#buffer.subarray(0, end).toString("latin1"), 16);
        if (Number.isNaN(size)) throw new Error("malformed chunk size in a chunked response");
        this.#buffer = this.#buffer.subarray(end + 2);
        this.#state = size === 0 ? { phase: "trailer" } : { phase: "chunk-data", left: size };
        return undefined;
      }
      case "chunk-data": {
        if (state.left === 0) {
          this.#state = { phase: "chunk-crlf" };
          return undefined;
        }
        if (this.#buffer.length === 0) return "more";
        const take = Math.min(state.left, this.#buffer.length);
        this.#body(this.#buffer.subarray(0, take));
        this.#buffer = this.#buffer.subarray(take);
        state.left -= take;
        return undefined;
      }
      case "chunk-crlf": {
        if (this.#buffer.length < 2) return "more";
        this.#buffer = this.#buffer.subarray(2);
        this.#state = { phase: "chunk-size" };
        return undefined;
      }
      case "trailer": {
        // No trailers are expected: the last chunk is followed by an empty line.
        const end = this.#buffer.indexOf("\r\n");
        if (end < 0) return "more";
        this.#buffer = this.#buffer.subarray(end + 2);
        if (end === 0) return this.#finish();
        return undefined;
      }
    }
  }
}
