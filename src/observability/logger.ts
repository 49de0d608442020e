// A small structured logger: one line per event, `time level msg key=value…`, to stderr so stdout
// stays free for command output. Access logs have their own writer (access-log.ts).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type Log = (level: LogLevel, msg: string, fields?: LogFields) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Log {
  const min = RANK[options.level ?? ((process.env.PORTICO_LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? 20;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  return (level, msg, fields) => {
    if (RANK[level] < min) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
    if (fields !== undefined) {
      for (const k in fields) {
        const v = fields[k];
        const s = v instanceof Error ? (v.stack ?? v.message) : typeof v === 'string' ? v : JSON.stringify(v);
        line += ` ${k}=${s !== undefined && /[\s"]/.test(s) ? JSON.stringify(s) : s}`;
      }
    }
    write(line + '\n');
  };
}
