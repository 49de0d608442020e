// An open-file cache (nginx's open_file_cache): stat results, validators and — for small files —
// the bytes themselves, re-checked at most once per `validMs`. Serving a 10 KiB file by stat +
// stream costs ~300 µs here against ~47 µs for a read from memory (DESIGN.md), so small hot files
// live in memory. Missing files are cached too, so precompressed-sibling probes stay cheap.
import { readFile, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

export type FileInfo =
  | { kind: 'file'; real: string; size: number; mtimeMs: number; etag: string; lastModified: string; data: Buffer | null }
  | { kind: 'directory' }
  | { kind: 'missing' };

interface Slot {
  info: FileInfo;
  checkedAt: number;
}

export interface FileCacheOptions {
  /** Files up to this size are kept in memory (default 1 MiB). */
  maxFileBytes?: number;
  /** Total bytes kept in memory; least recently used files leave first. */
  maxTotalBytes?: number;
  /** How long a lookup is trusted before the file is stat'ed again. */
  validMs?: number;
  /** Allow symlinks that resolve outside the root. */
  followSymlinks?: boolean;
  now?: () => number;
}

const MISSING: FileInfo = { kind: 'missing' };
const DIRECTORY: FileInfo = { kind: 'directory' };
const MAX_ENTRIES = 10_000;

export class FileCache {
  private readonly slots = new Map<string, Slot>();
  /** Loads under way: requests arriving while a path is re-checked share one stat (no herd). */
  private readonly loading = new Map<string, Promise<FileInfo>>();
  private bytes = 0;
  private readonly root: string;
  private readonly maxFileBytes: number;
  private readonly maxTotalBytes: number;
  private readonly validMs: number;
  private readonly followSymlinks: boolean;
  private readonly now: () => number;

  /** `root` must already be a real path. */
  constructor(root: string, options: FileCacheOptions = {}) {
    this.root = root;
    // 1 MiB: measured, a 1 MiB file streamed from disk in 64 KiB reads cost ~3 ms of CPU per
    // request here; from memory it is one write. The total stays bounded by maxTotalBytes.
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.maxTotalBytes = options.maxTotalBytes ?? 64 * 1024 * 1024;
    this.validMs = options.validMs ?? 1000;
    this.followSymlinks = options.followSymlinks ?? false;
    this.now = options.now ?? Date.now;
  }

  /**
   * What a lookup would answer without touching the disk, or undefined once the entry is older
   * than `validMs` (or absent). `now` lets a caller checking several paths read the clock once.
   * Recency is not refreshed here: the LRU order is that of the last (re-)check, at most
   * `validMs` old, which keeps this path free of map writes.
   */
  fresh(path: string, now: number = this.now()): FileInfo | undefined {
    const slot = this.slots.get(path);
    return slot !== undefined && now - slot.checkedAt < this.validMs ? slot.info : undefined;
  }

  /** The current clock of this cache (Date.now unless a test gives its own). */
  clock(): number {
    return this.now();
  }

  lookup(path: string): Promise<FileInfo> {
    const now = this.now();
    const slot = this.slots.get(path);
    if (slot !== undefined && now - slot.checkedAt < this.validMs) {
      // Refresh recency: Map order is the LRU order.
      this.slots.delete(path);
      this.slots.set(path, slot);
      return Promise.resolve(slot.info);
    }
    let pending = this.loading.get(path);
    if (pending === undefined) {
      pending = this.load(path, slot?.info).then((info) => {
        this.loading.delete(path);
        this.store(path, { info, checkedAt: now });
        return info;
      }, (err: unknown) => {
        this.loading.delete(path);
        throw err;
      });
      this.loading.set(path, pending);
    }
    return pending;
  }

  private async load(path: string, previous: FileInfo | undefined): Promise<FileInfo> {
    const st = await stat(path).catch(() => null);
    if (st === null) return MISSING;
    if (st.isDirectory()) return DIRECTORY;
    if (!st.isFile()) return MISSING;
    // Unchanged since the last look: keep the bytes we already hold.
    if (previous?.kind === 'file' && previous.size === st.size && previous.mtimeMs === st.mtimeMs) return previous;
    const real = await realpath(path).catch(() => null);
    if (real === null) return MISSING;
    if (!this.followSymlinks && real !== this.root && !real.startsWith(this.root + sep)) return MISSING;
    let data: Buffer | null = null;
    if (st.size <= this.maxFileBytes) {
      data = await readFile(real).catch(() => null);
      // A file that changed while read is served from disk until the next look.
      if (data !== null && data.length !== st.size) data = null;
    }
    return {
      kind: 'file',
      real,
      size: st.size,
      mtimeMs: st.mtimeMs,
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      lastModified: new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString(),
      data,
    };
  }

  private store(path: string, slot: Slot): void {
    const old = this.slots.get(path);
    if (old !== undefined) {
      this.bytes -= sizeOf(old.info);
      this.slots.delete(path);
    }
    this.slots.set(path, slot);
    this.bytes += sizeOf(slot.info);
    for (const [key, s] of this.slots) {
      if (this.bytes <= this.maxTotalBytes && this.slots.size <= MAX_ENTRIES) break;
      this.slots.delete(key);
      this.bytes -= sizeOf(s.info);
    }
  }

  get memoryBytes(): number {
    return this.bytes;
  }
}

function sizeOf(info: FileInfo): number {
  return info.kind === 'file' && info.data !== null ? info.data.length : 0;
}
