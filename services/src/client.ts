/**
 * The mTLS client. `node services/src/client.ts --once` makes one round (whoami, then echo), prints
 * one JSON line and exits 0, or prints one line saying why it failed and exits 4. Without --once it
 * makes a round every MTLS_INTERVAL_MS over kept-alive connections, backs off (capped, jittered)
 * while the server is away, serves its own status listener, reloads its identity when the files
 * change or on SIGHUP, and drains on SIGTERM/SIGINT.
 */
import type { Agent } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "./client/backoff.ts";
import { classifyRoundError, type RoundFailure } from "./client/failure-reasons.ts";
import { createClientMetrics } from "./client/metrics.ts";
import { type CallState, createAgent, type RoundResult, runRound } from "./client/round.ts";
import { runTunnel } from "./client/tunnel.ts";
import { type ClientConfig, parseClientConfig } from "./config.ts";
import { IdentityFilesCheck } from "./identity/files-check.ts";
import { loadIdentityAtStart, startHotReload } from "./identity/lifecycle.ts";
import type { Identity } from "./identity/validate.ts";
import { EXIT, exitWithError, isEntryPoint, onShutdownSignal } from "./lifecycle.ts";
import { createLogger, formatLine, type Logger } from "./log.ts";
import { startService } from "./service-start.ts";

type Outcome = { ok: true; result: RoundResult } | { ok: false; failure: RoundFailure };

async function oneRound(config: ClientConfig, agent: Agent, round: number): Promise<Outcome> {
  const state: CallState = { handshakeDone: false };
  try {
    const result = await runRound(
      {
        agent,
        url: config.serverUrl,
        serverName: config.serverName,
        timeoutMs: config.requestTimeoutMs,
        round,
      },
      state,
    );
    return { ok: true, result };
  } catch (error) {
    return {
      ok: false,
      failure: classifyRoundError(error, {
        url: config.serverUrl,
        serverName: config.serverName,
        caFile: config.identity.caFile,
        timeoutMs: config.requestTimeoutMs,
        handshakeDone: state.handshakeDone,
      }),
    };
  }
}

function roundFields(config: ClientConfig, result: RoundResult): Record<string, unknown> {
  return {
    result: "ok",
    url: config.serverUrl.origin,
    durationMs: result.durationMs,
    server: result.server,
    // How the server sees us (its /v1/whoami answer).
    identity: result.whoami,
    echoBytes: result.echoBytes,
  };
}

/** --once: one round, one line, exit code. */
export async function runOnce(config: ClientConfig): Promise<number> {
  // Only the result line is printed; a wait for identity files still says so (a warning).
  const log = createLogger({ service: "client", quiet: true, write: (line) => process.stderr.write(line) });
  const identity = await loadIdentityAtStart(config, "client", log, new AbortController().signal);
  const agent = createAgent(identity, config.tlsPolicy, config.serverName);
  try {
    const outcome = await oneRound(config, agent, 1);
    if (outcome.ok) {
      process.stdout.write(formatLine("client", "info", "round", roundFields(config, outcome.result)));
      return EXIT.ok;
    }
    process.stderr.write(
      formatLine("client", "error", "round", {
        result: "failure",
        url: config.serverUrl.origin,
        reason: outcome.failure.reason,
        message: outcome.failure.message,
      }),
    );
    return EXIT.roundFailed;
  } finally {
    agent.destroy();
  }
}

export async function runLoop(config: ClientConfig, log: Logger): Promise<void> {
  let identity: Identity | undefined;
  let lastFailure: RoundFailure | undefined;
  let succeeded = false;
  const shutdown = onShutdownSignal();
  const ready = () =>
    identity !== undefined && succeeded && lastFailure === undefined && !shutdown.signal.aborted;
  const metrics = createClientMetrics(() => identity?.leaf.validToDate, ready);
  // Would the files on disk load at a restart? (gauge and /readyz detail; not readiness)
  const filesCheck = new IdentityFilesCheck(metrics.registry, log);

  const started = await startService({
    purpose: "client",
    config,
    log,
    shutdown,
    startFields: {
      url: config.serverUrl.origin,
      serverName: config.serverName,
      intervalMs: config.intervalMs,
      statusListen: `${config.statusListen.host}:${config.statusListen.port}`,
      tlsPolicy: config.tlsPolicy,
      files: config.identity,
    },
    registry: metrics.registry,
    readiness: () => ({
      ready: ready(),
      reasons: [
        ...(identity ? [] : ["identity not loaded"]),
        ...(identity && !succeeded && !lastFailure ? ["no round completed yet"] : []),
        ...(lastFailure ? [`last round failed: ${lastFailure.message}`] : []),
        ...(shutdown.signal.aborted ? ["shutting down"] : []),
      ],
      details: { identityFiles: filesCheck.status() },
    }),
  });
  if (!started) return;
  const { status } = started;
  identity = started.identity;

  let agent = createAgent(identity, config.tlsPolicy, config.serverName);
  const retired: Agent[] = [];
  let roundInFlight = false;
  const stopReloading = startHotReload({
    config,
    purpose: "client",
    initial: identity,
    apply: (next) => {
      // New connections use the new identity. The old agent's kept-alive connection, which still
      // carries the old certificate, is closed now, or after the round in flight on it.
      if (roundInFlight) retired.push(agent);
      else agent.destroy();
      agent = createAgent(next, config.tlsPolicy, config.serverName);
      identity = next;
    },
    log,
    reloads: metrics.reloads,
    filesCheck,
  });

  const rounds = (async () => {
    let consecutiveFailures = 0;
    for (let round = 1; !shutdown.signal.aborted; round++) {
      roundInFlight = true;
      const outcome = await oneRound(config, agent, round);
      roundInFlight = false;
      for (const old of retired.splice(0)) old.destroy();
      let pause = config.intervalMs;
      if (outcome.ok) {
        succeeded = true;
        lastFailure = undefined;
        consecutiveFailures = 0;
        metrics.rounds.inc({ result: "success" });
        metrics.lastSuccess.set(Math.floor(Date.now() / 1000));
        log.info("round", { round, ...roundFields(config, outcome.result) });
      } else if (!shutdown.signal.aborted) {
        lastFailure = outcome.failure;
        consecutiveFailures++;
        pause = backoffDelay(consecutiveFailures, config.backoffInitialMs, config.backoffMaxMs);
        metrics.rounds.inc({ result: "failure" });
        metrics.roundFailures.inc({ reason: outcome.failure.reason });
        log.warn("round", {
          round,
          result: "failure",
          ...outcome.failure,
          consecutiveFailures,
          retryInMs: pause,
        });
      }
      metrics.consecutiveFailures.set(consecutiveFailures);
      await sleep(pause, undefined, { signal: shutdown.signal }).catch(() => {});
    }
  })();

  const received = await shutdown.received;
  log.info("shutdown", { signal: received, deadlineMs: config.shutdownTimeoutMs });
  stopReloading();
  // Let a round in flight finish, up to the deadline; destroying the agent then aborts it.
  const deadline = new AbortController();
  await Promise.race([
    rounds,
    sleep(config.shutdownTimeoutMs, undefined, { signal: deadline.signal }).catch(() => {}),
  ]);
  deadline.abort();
  agent.destroy();
  for (const old of retired) old.destroy();
  await status.close();
  log.info("stopped", { signal: received });
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    const config = parseClientConfig(process.env, args);
    // Sidecar hook: MTLS_LOCAL_LISTEN makes the client a local tunnel instead of a round loop.
    if (config.tunnel) {
      await runTunnel(config, config.tunnel, createLogger({ service: "client" }));
      process.exit(EXIT.ok);
    }
    if (config.once) process.exit(await runOnce(config));
    await runLoop(config, createLogger({ service: "client" }));
    process.exit(EXIT.ok);
  } catch (error) {
    exitWithError("client", error);
  }
}

if (isEntryPoint(import.meta)) await main();
