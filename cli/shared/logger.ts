/**
 * The one logger of the operator CLI. Structured like Powertools Logger (level, message, keys),
 * but readable on a terminal: `HH:MM:SS INFO  message key=value` on a TTY, one JSON object per
 * line otherwise (CI, log shippers). Logs go to stderr so stdout carries only the command's result.
 *
 * Powertools' own Logger prints JSON only (POWERTOOLS_DEV just indents it), which is why the CLI
 * has this small formatter instead; the field names follow Powertools (`level`, `message`,
 * `timestamp`, `service`) so the JSON form reads the same as the Lambdas' logs.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
export type LogAttributes = Readonly<Record<string, unknown>>;

export interface CliLogger {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
}

export interface CliLoggerOptions {
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** `text` for people, `json` for machines. @default text on a TTY, json otherwise */
  readonly format?: 'text' | 'json';
  /** @default INFO, or LOG_LEVEL / POWERTOOLS_LOG_LEVEL */
  readonly level?: LogLevel;
  /** @default kb-dr */
  readonly service?: string;
}

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };
const SECRET_KEY = /pass(word)?|secret|token|credential/i;

/** Parse a log level name; unknown names fall back to INFO. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const upper = value?.trim().toUpperCase();
  return upper && upper in ORDER ? (upper as LogLevel) : 'INFO';
}

/** Replace the value of any attribute whose key looks like a secret, at any depth. */
export function redact(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY.test(key)) return '***';
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A logger writing to `stream`; see the module comment for the two formats. */
export function createCliLogger(options: CliLoggerOptions = {}): CliLogger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? (stream.isTTY ? 'text' : 'json');
  const threshold =
    ORDER[options.level ?? parseLogLevel(process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL)];
  const service = options.service ?? 'kb-dr';

  const write = (level: Exclude<LogLevel, 'SILENT'>, message: string, attributes: LogAttributes = {}) => {
    if (ORDER[level] < threshold) return;
    const safe = redact(attributes) as Record<string, unknown>;
    const now = new Date();
    if (format === 'json') {
      stream.write(`${JSON.stringify({ level, message, timestamp: now.toISOString(), service, ...safe })}\n`);
      return;
    }
    const keys = Object.entries(safe)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${textValue(v)}`)
      .join(' ');
    const time = now.toISOString().slice(11, 19);
    stream.write(`${time} ${level.padEnd(5)} ${message}${keys ? `  ${keys}` : ''}\n`);
  };

  return {
    debug: (m, a) => write('DEBUG', m, a),
    info: (m, a) => write('INFO', m, a),
    warn: (m, a) => write('WARN', m, a),
    error: (m, a) => write('ERROR', m, a),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: CliLogger = createCliLogger({ level: 'SILENT' });
