/**
 * The front of a published server: a small container that owns the host port and forwards each TCP
 * connection, bytes as they are (mTLS stays end to end), to whichever server container answers the
 * server's network alias.
 *
 * Why: two containers cannot publish one host port, so a server container that publishes its own
 * port can only be replaced delete-first, an outage of every host caller for as long as the new one
 * takes to start. With the port on the front, the server container is replaced create-first: the
 * new one starts beside the old under the same alias and is healthy before the old one drains.
 * While both run, the alias resolves to both; a connection the draining one refuses goes to the
 * next address (Node's `net.connect` tries every address the name resolves to, one after the other,
 * when the first refuses: `autoSelectFamily`, on by default since Node 20).
 *
 * The front runs nothing of the services' code: `node -e FRONT_SCRIPT` on an image that does not
 * change with it (`ServiceImage.deliveryRepoDigest`, the base image alone), so a new version of the
 * services replaces the server container but not the front. It shares no other container's network
 * namespace, so it comes back by itself after a Docker daemon restart like any other container.
 *
 * Callers' addresses: the server sees the front's address as the peer's, not the host caller's.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_GID, SERVICE_UID } from "../services/src/contract.ts";
import { DEFAULT_RESTART_POLICY } from "./mtls-service-args.ts";

/** The variables the front reads: where it listens (`host:port`) and where it forwards (`host:port`). */
export const FRONT_ENV = { listen: "MTLS_FRONT_LISTEN", target: "MTLS_FRONT_TARGET" } as const;

/**
 * The front's program (CommonJS, Node built-ins only). Each accepted connection is forwarded to the
 * target; until the upstream has sent its first byte, the front keeps what the caller sent (a TLS
 * ClientHello; past 64 KiB it stops keeping and streams) and, should the upstream fail before
 * answering anything (a server container stopped at that moment, say), replays it to a new upstream
 * connection, up to three times: nothing has been exchanged yet, so the caller cannot tell. From the first byte on, bytes go
 * both ways as they are, with half-close; an error on either side closes both, a close of one ends
 * the other once it has written what it holds. One JSON log line at start, one per burst of
 * upstream failures, one at shutdown. On SIGTERM it stops accepting, lets open connections finish
 * for up to 5 s, and exits.
 */
export const FRONT_SCRIPT = `
const net = require("node:net");
const split = (v) => { const i = v.lastIndexOf(":"); return [v.slice(0, i), Number(v.slice(i + 1))]; };
const [listenHost, listenPort] = split(process.env.${FRONT_ENV.listen});
const [targetHost, targetPort] = split(process.env.${FRONT_ENV.target});
const log = (event, extra) => console.log(JSON.stringify({ time: new Date().toISOString(), service: "mtls-front", event, ...extra }));
const REPLAY_LIMIT = 64 * 1024, TRIES = 4;
const open = new Set();
let failed = 0, lastFailureLog = 0;
const failure = (error) => {
  failed++;
  if (Date.now() - lastFailureLog > 10000) { lastFailureLog = Date.now(); log("upstream_failed", { target: process.env.${FRONT_ENV.target}, code: error && error.code, failed }); }
};
const server = net.createServer({ allowHalfOpen: true }, (caller) => {
  open.add(caller);
  // "committed": no more replays, the caller's bytes go straight through (an answer came, or the
  // caller sent more than a handshake's worth before any answer).
  let upstream, tries = 0, committed = false, callerEnded = false, earlyBytes = 0;
  let early = [];
  const destroyBoth = () => { caller.destroy(); if (upstream) upstream.destroy(); };
  const connected = () => upstream && !upstream.connecting && !upstream.destroyed;
  const commit = () => {
    committed = true;
    caller.off("data", keep);
    if (!connected()) return void caller.pause(); // the connect handler writes what was kept, then pipes
    early = [];
    if (!callerEnded) caller.pipe(upstream);
  };
  const keep = (chunk) => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (connected()) upstream.write(chunk);
    if (earlyBytes > REPLAY_LIMIT) commit();
  };
  caller.on("data", keep);
  caller.on("end", () => { callerEnded = true; if (!committed && connected()) upstream.end(); });
  caller.on("error", destroyBoth);
  caller.on("close", () => { open.delete(caller); if (upstream) upstream.end(); });
  const connect = () => {
    tries++;
    const attempt = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
    upstream = attempt;
    attempt.once("connect", () => {
      for (const chunk of early) attempt.write(chunk);
      if (committed) early = [];
      if (callerEnded) attempt.end();
      else if (committed) caller.pipe(attempt);
    });
    attempt.once("data", (first) => {
      caller.write(first);
      attempt.pipe(caller);
      if (!committed) commit();
    });
    attempt.on("error", (error) => {
      failure(error);
      // Before anything was committed, its close (below) tries again.
      if (committed && attempt === upstream) destroyBoth();
    });
    attempt.on("close", () => {
      if (attempt !== upstream) return;
      if (!committed && tries < TRIES && !caller.destroyed) return void setTimeout(connect, 50 * tries);
      caller.end();
    });
  };
  connect();
});
server.listen(listenPort, listenHost, () => log("listening", { port: server.address().port, target: process.env.${FRONT_ENV.target} }));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => {
  log("draining", { open: open.size });
  server.close();
  const deadline = Date.now() + 5000;
  setInterval(() => { if (open.size === 0 || Date.now() > deadline) process.exit(0); }, 50);
});
`;

/** Healthy once the front accepts connections on its own port (exec form: the image needs no shell). */
function frontHealthcheck(port: pulumi.Input<number>): docker.types.input.ContainerHealthcheck {
  return {
    tests: [
      "CMD",
      "node",
      "-e",
      `const [h, p] = ["127.0.0.1", Number(process.argv[1])]; require("node:net").connect(p, h).on("connect", () => process.exit(0)).on("error", () => process.exit(1))`,
      // The port as the script's argument: the script itself stays a constant.
      pulumi.interpolate`${port}`,
    ],
    interval: "5s",
    timeout: "3s",
    startPeriod: "10s",
    retries: 3,
  };
}

export interface TcpFrontArgs {
  /** Image with Node to run the front's script on; best one that does not change with the services. */
  image: pulumi.Input<string>;
  networkName: pulumi.Input<string>;
  /** The port the front listens on in its container (the published port's container side). */
  containerPort: pulumi.Input<number>;
  /** The published port on 127.0.0.1; undefined: Docker picks one. */
  hostPort?: pulumi.Input<number>;
  /** `alias:port` of the server on the network. */
  target: pulumi.Input<string>;
  labels: docker.types.input.ContainerLabel[];
}

const FRONT_MEMORY_MB = 64;

/**
 * Declares the front container. Replaced delete-first (it holds the host port, which its
 * replacement cannot bind beside it): a short outage of host callers, but only when the front itself
 * changes (its image, port or target), never for a new version of the services.
 */
export function declareTcpFront(name: string, args: TcpFrontArgs, opts: pulumi.CustomResourceOptions) {
  return new docker.Container(
    name,
    {
      image: args.image,
      entrypoints: ["node", "-e", FRONT_SCRIPT],
      envs: [
        pulumi.interpolate`${FRONT_ENV.listen}=0.0.0.0:${args.containerPort}`,
        pulumi.interpolate`${FRONT_ENV.target}=${args.target}`,
      ],
      user: `${SERVICE_UID}:${SERVICE_GID}`,
      networksAdvanced: [{ name: args.networkName }],
      ports: [
        {
          internal: args.containerPort,
          ...(args.hostPort === undefined ? {} : { external: args.hostPort }),
          ip: "127.0.0.1",
        },
      ],
      labels: args.labels,
      readOnly: true,
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      memory: FRONT_MEMORY_MB,
      memorySwap: FRONT_MEMORY_MB,
      restart: DEFAULT_RESTART_POLICY,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      healthcheck: frontHealthcheck(args.containerPort),
      wait: true,
      waitTimeout: 60,
      destroyGraceSeconds: 10,
    },
    { ...opts, deleteBeforeReplace: true },
  );
}
