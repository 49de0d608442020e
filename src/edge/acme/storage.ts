// The ACME store on disk: one directory per certificate (named by its host list) with `key.pem`
// and `cert.pem` (leaf + chain), and the account key beside them. Files are written 0600 and
// renamed into place, so a reader (another instance, the certificate store's watcher) sees the old
// pair or the new one, never half a file; the key is renamed before the certificate, and a reader
// that finds a mismatched pair (between the two renames) treats it as absent.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateNames } from '../dev-ca.ts';

export interface StoredCertificate {
  readonly cert: string;
  readonly key: string;
  readonly notAfter: number;
  readonly serial: string;
  readonly issuer: string;
}

export interface CertificatePaths {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

/** The directory for a host list: readable for one host, hashed for many (file-name length). */
export function certificatePaths(storage: string, hosts: readonly string[]): CertificatePaths {
  const sorted = [...hosts].sort();
  const name = sorted.length === 1 ? sorted[0] : `${sorted[0]}+${createHash('sha256').update(sorted.join(',')).digest('hex').slice(0, 12)}`;
  const dir = join(storage, 'certificates', name.replace(/[^\w.+-]/g, '_'));
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** The stored pair when it exists, matches its key and covers every host; otherwise null. */
export async function readStored(paths: CertificatePaths, hosts: readonly string[]): Promise<StoredCertificate | null> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]);
  } catch {
    return null;
  }
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return null;
    const names = new Set(certificateNames(x509));
    if (!hosts.every((h) => names.has(h))) return null;
    return { cert, key, notAfter: Date.parse(x509.validTo), serial: x509.serialNumber, issuer: x509.issuer };
  } catch {
    return null;
  }
}

export async function writeStored(paths: CertificatePaths, cert: string, key: string): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeAtomic(paths.key, key);
  await writeAtomic(paths.cert, cert);
}

/** The account key (RFC 8555 §7.3): created once per store and shared by every instance using it. */
export async function accountKey(storage: string, create: () => Promise<Buffer>): Promise<Buffer> {
  const path = join(storage, 'account.key');
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = await create();
  await mkdir(storage, { recursive: true, mode: 0o700 });
  await writeAtomic(path, key);
  return key;
}

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}
