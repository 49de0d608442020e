// The embedded store: variants in one Map used as an LRU list (a Map iterates in insertion order,
// so delete + set moves an entry to the most recent end), bounded in bytes. A read counts as a use;
// like Varnish's `lru_interval`, an entry read again while still among the youngest is not moved
// (two Map operations on long string keys were the largest cost of a cache hit).
import { entrySize, type CacheStore, type StoredResponse } from './store.ts';

interface Slot {
  primary: string;
  entry: StoredResponse;
  size: number;
  /** `uses` when the slot last moved to the young end. */
  used: number;
}

export interface MemoryStoreOptions {
  /** Total bytes kept; least recently used entries go first past it. */
  maxBytes: number;
}

export class MemoryStore implements CacheStore {
  private readonly slots = new Map<string, Slot>();
  /** primary key → the slot keys of its variants. */
  private readonly byPrimary = new Map<string, Set<string>>();
  private bytes = 0;
  private uses = 0;
  /** The slot key at the young end, which a use need not move. */
  private youngest: string | undefined;
  private readonly maxBytes: number;

  constructor(options: MemoryStoreOptions) {
    this.maxBytes = options.maxBytes;
  }

  variants(primary: string): Promise<StoredResponse[]> {
    const keys = this.byPrimary.get(primary);
    if (keys === undefined) return Promise.resolve([]);
    const out: StoredResponse[] = [];
    for (const key of keys) {
      const slot = this.slots.get(key) as Slot;
      this.touch(key, slot);
      out.push(slot.entry);
    }
    if (out.length > 1) out.sort((a, b) => b.responseTime - a.responseTime);
    return Promise.resolve(out);
  }

  put(primary: string, entry: StoredResponse): Promise<boolean> {
    const size = entrySize(primary, entry);
    if (size > this.maxBytes) return Promise.resolve(false);
    const key = `${primary}\0${entry.variant}`;
    this.remove(key);
    this.slots.set(key, { primary, entry, size, used: ++this.uses });
    this.youngest = key;
    let keys = this.byPrimary.get(primary);
    if (keys === undefined) this.byPrimary.set(primary, (keys = new Set()));
    keys.add(key);
    this.bytes += size;
    for (const [oldest] of this.slots) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
    return Promise.resolve(true);
  }

  delete(primary: string): Promise<number> {
    const keys = this.byPrimary.get(primary);
    if (keys === undefined) return Promise.resolve(0);
    const n = keys.size;
    for (const key of [...keys]) this.remove(key);
    return Promise.resolve(n);
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.removeWhere((slot) => slot.primary.startsWith(prefix));
  }

  deleteTag(tag: string): Promise<number> {
    return this.removeWhere((slot) => slot.entry.tags.includes(tag));
  }

  stats(): Promise<{ bytes: number; entries: number }> {
    return Promise.resolve({ bytes: this.bytes, entries: this.slots.size });
  }

  close(): Promise<void> {
    this.slots.clear();
    this.byPrimary.clear();
    this.bytes = 0;
    return Promise.resolve();
  }

  /**
   * Moves a slot to the young end unless it moved there within the last eighth of `slots.size`
   * uses: at most that many other entries can have passed it since, so it is still far from the
   * old end that eviction takes from. In stores of fewer than 8 entries every use that changes the
   * order moves (exact LRU).
   */
  private touch(key: string, slot: Slot): void {
    this.uses++;
    if (key === this.youngest || this.uses - slot.used <= this.slots.size >> 3) return;
    slot.used = this.uses;
    this.youngest = key;
    this.slots.delete(key);
    this.slots.set(key, slot);
  }

  private removeWhere(test: (slot: Slot) => boolean): Promise<number> {
    let n = 0;
    for (const [key, slot] of [...this.slots]) {
      if (test(slot)) {
        this.remove(key);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  private remove(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    if (key === this.youngest) this.youngest = undefined;
    this.bytes -= slot.size;
    const keys = this.byPrimary.get(slot.primary) as Set<string>;
    keys.delete(key);
    if (keys.size === 0) this.byPrimary.delete(slot.primary);
  }
}
