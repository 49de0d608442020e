// `portico status` for people: the stack's state from the admin API as aligned tables, one per app
// (like `pm2 ls`), instead of raw JSON. `--json` keeps the raw form for scripts.

interface WorkerRow {
  id?: string;
  slot?: number;
  generation?: number;
  pid?: number;
  state?: string;
  uptime?: number;
  requests?: number;
  inflight?: number;
  restarts?: number;
  rss?: number;
  eventLoopLag?: number;
}

interface StatusBody {
  pid?: number;
  uptime?: number;
  listeners?: { name: string; host: string; port: number }[];
  apps?: Record<string, WorkerRow[]>;
  /** `apps.<name>.mode: 'in-process'`: no workers, one line each. */
  inProcessApps?: Record<string, { module?: string; generation?: number; uptime?: number; requests?: number; waiting?: number }>;
  /** `processes` > 1 (src/dataplane): the primary and each replica. */
  dataPlane?: { role?: string; slot?: number; pid?: number | null; state?: string; uptime?: number; restarts?: number }[];
}

const COLUMNS: { title: string; cell: (w: WorkerRow) => string; left?: boolean }[] = [
  { title: 'slot', cell: (w) => String(w.slot ?? '?') },
  { title: 'gen', cell: (w) => String(w.generation ?? '?') },
  { title: 'pid', cell: (w) => String(w.pid ?? '?') },
  { title: 'state', cell: (w) => w.state ?? '?', left: true },
  { title: 'uptime', cell: (w) => duration(w.uptime ?? 0) },
  { title: 'requests', cell: (w) => String(w.requests ?? 0) },
  { title: 'in flight', cell: (w) => String(w.inflight ?? 0) },
  { title: 'restarts', cell: (w) => String(w.restarts ?? 0) },
  { title: 'rss', cell: (w) => bytes(w.rss ?? 0) },
  { title: 'loop lag', cell: (w) => `${(w.eventLoopLag ?? 0).toFixed(1)} ms` },
];

export function formatStatus(body: unknown): string {
  const s = (typeof body === 'object' && body !== null ? body : {}) as StatusBody;
  const lines: string[] = [];
  lines.push(`portico pid ${s.pid ?? '?'}, up ${duration(s.uptime ?? 0)}`);
  for (const l of s.listeners ?? []) lines.push(`listener ${l.name}: ${l.host}:${l.port}`);
  for (const p of s.dataPlane ?? []) {
    lines.push(`data-plane ${p.role ?? '?'} ${p.slot ?? '?'}: pid ${p.pid ?? '-'}, ${p.state ?? '?'}, up ${duration(p.uptime ?? 0)}, ${p.restarts ?? 0} restart(s)`);
  }
  const apps = Object.entries(s.apps ?? {});
  const inProcess = Object.entries(s.inProcessApps ?? {});
  if (apps.length === 0 && inProcess.length === 0) lines.push('', 'no apps');
  for (const [name, workers] of apps) {
    lines.push('', `app ${name}: ${workers.filter((w) => w.state === 'ready').length} ready of ${workers.length} worker(s)`);
    lines.push(...table(workers));
  }
  for (const [name, a] of inProcess) {
    lines.push('', `app ${name}: in-process (generation ${a.generation ?? '?'}, up ${duration(a.uptime ?? 0)}), ${a.requests ?? 0} requests, ${a.waiting ?? 0} waiting, module ${a.module ?? '?'}`);
  }
  return lines.join('\n') + '\n';
}

function table(workers: WorkerRow[]): string[] {
  const cells = workers.map((w) => COLUMNS.map((c) => c.cell(w)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((v, i) => (COLUMNS[i].left ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => c.title)), ...cells.map(line)];
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  const h = Math.floor(seconds / 3600);
  if (h < 48) return `${h}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
