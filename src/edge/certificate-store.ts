// Certificates for a TLS listener: PEM files → one SecureContext per certificate, picked per
// handshake by SNI from the names in each certificate's subjectAltName, and swapped in place when
// the files change. Handshakes read the current table, so open connections keep the context they
// negotiated and only new ones see the new certificate: nothing is dropped.
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { type SecureContext, createSecureContext } from 'node:tls';
import { certificateNames, type CertFiles } from './dev-ca.ts';

interface Loaded {
  readonly exact: Map<string, SecureContext>;
  /** `*.example.com` stored as `example.com`: a wildcard covers exactly one label (RFC 6125 §6.4.3). */
  readonly wildcard: Map<string, SecureContext>;
  /** The first certificate: served when the client sends no SNI or a name no certificate covers. */
  readonly fallback: { cert: Buffer; key: Buffer };
  /** File contents, to skip no-op reloads (editors and `touch` fire events without changes). */
  readonly fingerprint: string;
}

export interface CertificateStoreEvents {
  reload: [error: Error | null];
}

/** How long to wait after a file event before reading: cert and key are often replaced one by one. */
const SETTLE_MS = 100;

export class CertificateStore extends EventEmitter<CertificateStoreEvents> {
  private current: Loaded;
  private files: readonly CertFiles[];
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** Throws (naming the file) when a pair cannot be read, parsed, or its key does not match. */
  constructor(files: readonly CertFiles[]) {
    super();
    if (files.length === 0) throw new Error('a TLS listener needs at least one certificate');
    this.files = files;
    this.current = load(files);
  }

  /** The SecureContext for an SNI name, or undefined for the server's default (the first pair). */
  contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.current.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot === -1 ? undefined : this.current.wildcard.get(name.slice(dot + 1));
  }

  /** Options for the default context (`tls.Server` options / `setSecureContext`). */
  get defaultCredentials(): { cert: Buffer; key: Buffer } {
    return this.current.fallback;
  }

  /** Re-reads the files now; keeps the old certificates when the new ones do not load. */
  reload(): void {
    let next: Loaded;
    try {
      next = load(this.files);
    } catch (err) {
      this.emit('reload', err as Error);
      return;
    }
    if (next.fingerprint === this.current.fingerprint) return;
    this.current = next;
    this.emit('reload', null);
  }

  /**
   * Serves other files from now on (ACME: the issued pair replaces the fallback); watched like the
   * first ones. Returns the error when they do not load, keeping the current certificates.
   */
  replaceFiles(files: readonly CertFiles[]): Error | null {
    let next: Loaded;
    try {
      next = load(files);
    } catch (err) {
      return err as Error;
    }
    const watching = this.watchers.length > 0;
    this.close();
    this.files = files;
    this.current = next;
    if (watching) this.watch();
    this.emit('reload', null);
    return null;
  }

  /**
   * Watches the directories rather than the files: certbot, cert-manager and `mv` replace files by
   * rename (a watch on the old inode would go quiet), Kubernetes secrets swap a `..data` symlink.
   */
  watch(): void {
    if (this.watchers.length > 0) return;
    for (const dir of new Set(this.files.flatMap((f) => [dirname(f.cert), dirname(f.key)]))) {
      const watcher = watch(dir, { persistent: false }, () => this.schedule());
      watcher.on('error', () => {}); // a vanished directory: the last good certificates stay
      this.watchers.push(watcher);
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload();
    }, SETTLE_MS);
    this.timer.unref();
  }
}

function load(files: readonly CertFiles[]): Loaded {
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>();
  let fallback: Loaded['fallback'] | undefined;
  let fingerprint = '';
  for (const { cert: certPath, key: keyPath } of files) {
    const cert = read(certPath, 'certificate');
    const key = read(keyPath, 'key');
    fingerprint += cert.toString('latin1') + key.toString('latin1');
    let context: SecureContext;
    let names: string[];
    try {
      // createSecureContext checks that the key matches the certificate.
      context = createSecureContext({ cert, key });
      names = certificateNames(new X509Certificate(cert));
    } catch (err) {
      throw new Error(`${certPath}: ${(err as Error).message}`, { cause: err });
    }
    fallback ??= { cert, key };
    // Earlier pairs win a name both cover, so config order decides like nginx's server blocks.
    for (const name of names) {
      if (name.startsWith('*.')) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), context);
      } else if (!exact.has(name)) {
        exact.set(name, context);
      }
    }
  }
  return { exact, wildcard, fallback: fallback as Loaded['fallback'], fingerprint };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}
