/**
 * The container health check: exits 0 when the service's status listener answers /readyz with 200,
 * else 1 with one line saying why. The Dockerfile's HEALTHCHECK and the program's container
 * healthcheck run it in exec form (images without a shell work too):
 *
 *   node /app/src/healthcheck.js
 *
 * It probes MTLS_STATUS_LISTEN when the container sets it. Otherwise it does not know the role the
 * image was started with, so it tries the server's default status address, then the client's: in
 * any one container only one of them listens.
 */
import { DEFAULTS, ENV, STATUS_ROUTES } from "./contract.ts";

const TIMEOUT_MS = 2000;

/** A listener bound to every address is reached through loopback. */
function probeUrl(listen: string): URL {
  const url = new URL(`http://${listen}${STATUS_ROUTES.readyz}`);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  if (url.hostname === "[::]") url.hostname = "[::1]";
  return url;
}

/** undefined when ready, else why not. */
async function problem(listen: string): Promise<string | undefined> {
  try {
    const url = probeUrl(listen);
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.body?.cancel();
    return response.status === 200 ? undefined : `${url} answered ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `status listener ${listen}: ${cause ?? (error as Error).message}`;
  }
}

const configured = process.env[ENV.statusListen];
const candidates = configured ? [configured] : [DEFAULTS.statusListen, DEFAULTS.clientStatusListen];
const problems: string[] = [];
for (const listen of candidates) {
  const why = await problem(listen);
  if (why === undefined) process.exit(0);
  problems.push(why);
}
console.error(`unhealthy: ${problems.join("; ")}`);
process.exit(1);
