// A local development CA (mkcert's idea): one CA made once per runtime dir, leaf certificates
// issued from it for the hosts a config serves, so `tls: 'dev'` serves https that curl trusts with
// `--cacert <runtimeDir>/dev-ca/ca.pem`. Keys are made by the `openssl` binary (OpenSSL ≥ 3.0 for
// `req -x509 -CA`), which keeps node-forge-sized dependencies out of the tree.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface DevCa extends CertFiles {
  /** True when this call made the CA (first run). */
  readonly created: boolean;
}

/** Leaf certificates are re-issued this long before they expire. */
const RENEW_BEFORE_MS = 7 * 24 * 3600_000;
/** Browsers reject leaf validity above 398 days (CA/Browser Forum BR §6.3.2); stay well under. */
const LEAF_DAYS = 90;

export function devCaDir(runtimeDir: string): string {
  return join(runtimeDir, 'dev-ca');
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

async function openssl(args: string[], config: string, dir: string): Promise<void> {
  const cnf = join(dir, `.openssl-${process.pid}-${Math.random().toString(36).slice(2)}.cnf`);
  await writeFile(cnf, config, { mode: 0o600 });
  try {
    await run('openssl', ['req', '-x509', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', ...args]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the openssl binary is needed for the development CA and was not found on PATH', { cause: err });
    throw new Error(`openssl failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  } finally {
    await rm(cnf, { force: true });
  }
}

/** Creates the CA under `<runtimeDir>/dev-ca` unless it exists; the key stays 0600. */
export async function ensureDevCa(runtimeDir: string): Promise<DevCa> {
  const dir = devCaDir(runtimeDir);
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca-key.pem');
  if (await exists(cert) && await exists(key)) return { cert, key, created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written beside and renamed, so a concurrent start never reads half a CA.
  const tmp = `.${process.pid}`;
  await openssl(['-keyout', key + tmp, '-out', cert + tmp, '-days', '3650'], [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ext',
    '[dn]', 'CN = Portico Development CA', 'O = Portico (local development only)',
    // RFC 5280 §4.2.1.9/§4.2.1.3: a CA certificate with keyCertSign, limited to one level below.
    '[ext]', 'basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', '',
  ].join('\n'), dir);
  await chmod(key + tmp, 0o600);
  await rename(key + tmp, key);
  await rename(cert + tmp, cert);
  return { cert, key, created: true };
}

/** subjectAltName entries: IP literals as IP, names (wildcards included) as DNS (RFC 5280 §4.2.1.6). */
export function subjectAltNames(hosts: readonly string[]): string {
  return hosts.map((h) => {
    const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
    if (isIP(bare) !== 0) return `IP:${bare}`;
    // Names end up in an openssl config file: only what a DNS name may hold (RFC 1123 §2.1, `*.` prefix).
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(bare)) throw new Error(`not a host name or IP address: ${JSON.stringify(h)}`);
    return `DNS:${bare.toLowerCase()}`;
  }).join(',');
}

/** The names a certificate covers, from its subjectAltName (node's X509Certificate renders them). */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san === undefined) return [];
  const names: string[] = [];
  for (const entry of san.split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase());
    else if (entry.startsWith('IP Address:')) names.push(entry.slice(11).toLowerCase());
  }
  return names;
}

function sameNames(x509: X509Certificate, hosts: readonly string[]): boolean {
  const have = new Set(certificateNames(x509).map((n) => (isIP(n) === 6 ? expandV6(n) : n)));
  const want = subjectAltNames(hosts).split(',').map((e) => (e.startsWith('IP:') ? (isIP(e.slice(3)) === 6 ? expandV6(e.slice(3)) : e.slice(3)) : e.slice(4)));
  return want.length === have.size && want.every((n) => have.has(n));
}

/** node prints IPv6 SANs fully expanded (0:0:0:0:0:0:0:1); compare in that form. */
function expandV6(address: string): string {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((p) => parseInt(p, 16).toString(16)).join(':');
}

/**
 * A leaf for `hosts` signed by the dev CA, written as `<dir>/<name>.pem` and `<name>-key.pem`.
 * An existing leaf is kept when it names the same hosts, is signed by this CA and is not near expiry,
 * so restarts do not churn certificates (and clients' pinned sessions).
 */
export async function issueDevCertificate(runtimeDir: string, hosts: readonly string[], name = 'localhost', force = false): Promise<CertFiles & { issued: boolean }> {
  if (hosts.length === 0) throw new Error('a certificate needs at least one host name');
  const ca = await ensureDevCa(runtimeDir);
  const dir = devCaDir(runtimeDir);
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  if (!force && await exists(cert) && await exists(key)) {
    const x509 = new X509Certificate(await readFile(cert));
    const caCert = new X509Certificate(await readFile(ca.cert));
    if (sameNames(x509, hosts) && x509.checkIssued(caCert) && x509.verify(caCert.publicKey) && Date.parse(x509.validTo) - Date.now() > RENEW_BEFORE_MS) {
      return { cert, key, issued: false };
    }
  }
  const cn = hosts.find((h) => isIP(h) === 0 && !h.startsWith('*')) ?? hosts[0];
  const tmp = `.${process.pid}`;
  await openssl(['-keyout', key + tmp, '-out', cert + tmp, '-days', String(LEAF_DAYS), '-CA', ca.cert, '-CAkey', ca.key], [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ext',
    '[dn]', `CN = ${cn.replace(/[^\w.*:-]/g, '')}`,
    '[ext]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth',
    `subjectAltName = ${subjectAltNames(hosts)}`, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', '',
  ].join('\n'), dir);
  await chmod(key + tmp, 0o600);
  // Key first: a watcher that sees the new cert then finds its key already in place.
  await rename(key + tmp, key);
  await rename(cert + tmp, cert);
  return { cert, key, issued: true };
}
