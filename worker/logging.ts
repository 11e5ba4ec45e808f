// One way to log in every Loopwright process: pino JSON lines on stderr at LOG_LEVEL (trace, debug,
// info, warn, error, fatal; default info), with secrets and bodies redacted. The Temporal runtime's
// own logs (SDK worker messages and the Rust core's, forwarded) go through the same logger, so a
// process writes one JSON object per line and nothing else. The runtime can also expose its metrics
// (task slots, poll latencies, sticky cache, …) in Prometheus format on a loopback address, which
// /metrics then merges into its own scrape.
// Must not: hold a module-level logger (callers create one and pass it down), or log message text.
import { Runtime, makeTelemetryFilterString, type Logger as TemporalLogger, type LogLevel as TemporalLogLevel, type LogMetadata } from '@temporalio/worker';
import { destination, pino, stdTimeFunctions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type TLogLevel = (typeof LOG_LEVELS)[number];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'req.headers["x-zendesk-webhook-signature"]',
  'req.body',
  'res.body',
  '*.apiKey',
  '*.token',
  '*.password',
];

/** LOG_LEVEL, validated: an unknown level fails the start naming the variable. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): TLogLevel {
  const v = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${env.LOG_LEVEL}"`);
  return v as TLogLevel;
}

/** The process's root logger: JSON to stderr (or `stream`), ISO timestamps, `name` on every line. */
export function createLogger(name: string, opts: { level?: TLogLevel; stream?: DestinationStream; env?: NodeJS.ProcessEnv } = {}): Logger {
  const options: LoggerOptions = {
    name,
    level: opts.level ?? logLevelFromEnv(opts.env),
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(options, opts.stream ?? destination({ fd: 2, sync: true }));
}

const TEMPORAL_TO_PINO: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Adapts a pino logger to the Temporal SDK's Logger interface; metadata becomes JSON fields. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata): void => {
    const { error, ...rest } = (meta ?? {}) as LogMetadata & { error?: unknown };
    const fields: Record<string, unknown> = { ...rest };
    if (error instanceof Error) fields.error = { type: error.name, message: error.message };
    else if (error !== undefined) fields.error = String(error);
    logger[TEMPORAL_TO_PINO[level]](fields, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

function coreLevel(level: TLogLevel): TemporalLogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}

/**
 * Installs the Temporal runtime once per process with our logger: SDK messages and the core's
 * (forwarded) become pino lines under `component: "temporal"`. With `metricsAddress`
 * (e.g. 127.0.0.1:9464) the runtime serves its own Prometheus metrics there.
 */
export function installTemporalRuntime(logger: Logger, opts: { metricsAddress?: string } = {}): void {
  const child = logger.child({ component: 'temporal' });
  const level = coreLevel(logger.level as TLogLevel);
  Runtime.install({
    logger: temporalLogger(child),
    // The process stops its workers itself on SIGINT/SIGTERM (worker/main.ts: workers drain, then the
    // connection closes). The SDK's own handlers began the drain first, so main's shutdown() threw
    // "Not running. Current state: DRAINING" and the connection close was refused.
    shutdownSignals: [],
    telemetryOptions: {
      // Core logs at WARN and above unless LOG_LEVEL asks for more: its INFO is per poll.
      logging: { filter: makeTelemetryFilterString({ core: level === 'INFO' ? 'WARN' : level, other: 'ERROR' }), forward: {} },
      ...(opts.metricsAddress ? { metrics: { prometheus: { bindAddress: opts.metricsAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } } : {}),
    },
  });
}
