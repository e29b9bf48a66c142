import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr. Each controller logs through a child logger that carries the
 * controller name, and each reconcile adds `object` (namespace/name) so every line names it.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'meshos-operator',
      level: options.level ?? process.env['MESHOS_LOG_LEVEL'] ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
