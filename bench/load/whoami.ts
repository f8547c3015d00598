/** One `GET /v1/whoami` with the benchmark client's identity: the body nginx will serve verbatim. */
import { ROUTES } from "../../services/src/contract.ts";
import { ResponseReader } from "./http-response-reader.ts";
import { connectMtls, type GeneratorTarget } from "./mtls-connect.ts";

export async function fetchWhoami(target: GeneratorTarget): Promise<string> {
  const socket = await connectMtls(target);
  try {
    const reader = new ResponseReader();
    reader.keepBody = true;
    const response = await new Promise<{ status: number; body?: Buffer }>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        const [done] = reader.feed(chunk);
        if (done) resolve(done);
      });
      socket.once("error", reject);
      socket.write(`GET ${ROUTES.whoami} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    if (response.status !== 200) throw new Error(`GET ${ROUTES.whoami} answered ${response.status}`);
    return response.body!.toString("utf8");
  } finally {
    socket.destroy();
  }
}
