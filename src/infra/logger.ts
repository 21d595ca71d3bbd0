import { type Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/logger';
import winston from 'winston';

/**
 * One logger for the whole process: JSON in production, readable in development, secrets redacted.
 * Bolt and the Slack WebClient log through it too (`toBoltLogger`).
 */
export type Logger = winston.Logger;

const SECRET_KEY = /(token|secret|password|authorization|cookie|signature|api[_-]?key)/i;
const SECRET_VALUE =
  /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|cg_[A-Za-z0-9_-]{20,}|Bearer\s+[A-Za-z0-9._~+/=-]+)|(mongodb(?:\+srv)?:\/\/[^:/@\s]+:)[^@\s]+@/g;

export function redactString(s: string): string {
  return s.replace(SECRET_VALUE, (_m, secret: string | undefined, uriPrefix: string | undefined) =>
    uriPrefix ? `${uriPrefix}[REDACTED]@` : `${secret?.slice(0, 5) ?? ''}[REDACTED]`,
  );
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      code: (value as { code?: unknown }).code,
      stack: value.stack ? redactString(value.stack) : undefined,
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && typeof v === 'string' ? '[REDACTED]' : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    const v = info[key];
    info[key] = SECRET_KEY.test(key) && typeof v === 'string' ? '[REDACTED]' : redact(v);
  }
  return info;
});

export function createLogger(opts: { level: string; format: 'json' | 'pretty'; silent?: boolean }): Logger {
  const base = [winston.format.errors({ stack: true }), winston.format.timestamp(), redactFormat()];
  const format =
    opts.format === 'json'
      ? winston.format.combine(...base, winston.format.json())
      : winston.format.combine(
          ...base,
          winston.format.colorize(),
          winston.format.printf(({ timestamp, level, message, component, stack, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            const comp = component ? `[${String(component)}] ` : '';
            return `${String(timestamp)} ${level} ${comp}${String(message)}${extra}${stack ? `\n${String(stack)}` : ''}`;
          }),
        );
  return winston.createLogger({
    level: opts.level,
    format,
    silent: opts.silent ?? false,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** Bolt's pluggable Logger interface, backed by winston. */
export function toBoltLogger(logger: Logger, component = 'bolt'): BoltLogger {
  let child = logger.child({ component });
  let level = BoltLogLevel.INFO;
  const join = (msg: unknown[]) =>
    msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(redact(m)))).join(' ');
  return {
    // Bolt and the Web API client log a lot at debug level: skip the formatting when it is off.
    debug: (...msg) => {
      if (logger.isDebugEnabled()) child.debug(join(msg));
    },
    info: (...msg) => {
      if (logger.isInfoEnabled()) child.info(join(msg));
    },
    warn: (...msg) => child.warn(join(msg)),
    error: (...msg) => child.error(join(msg)),
    // LOG_LEVEL governs the whole process; Bolt's own level setting is remembered but not applied.
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: (name) => {
      child = logger.child({ component: name });
    },
  };
}
