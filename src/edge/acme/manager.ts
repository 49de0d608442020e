// One ACME certificate's life (RFC 8555 §7.1): read the store; when nothing valid is there (or it
// is within `renewBefore` of expiry) take the lock, look again (another instance may just have
// finished), order with HTTP-01 (§8.3) or TLS-ALPN-01 (RFC 8737), store, and hand the files to
// the listener. Failures are logged and retried with exponential backoff; nothing here throws into
// the stack.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { ResolvedAcme } from '../../config/resolved.ts';
import type { AcmeChallenges } from './challenges.ts';
import type { AcmeLock } from './lock.ts';
import { validationContext } from './tls-alpn.ts';
import { accountKey, certificatePaths, readStored, writeStored, type CertificatePaths, type StoredCertificate } from './storage.ts';

export interface AcmeManagerOptions {
  readonly acme: ResolvedAcme;
  readonly hosts: readonly string[];
  /** The resolved storage directory. */
  readonly storage: string;
  readonly challenges: AcmeChallenges;
  readonly lock: AcmeLock;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Called with the stored pair whenever a new certificate (issued here or by another instance) is valid. */
  onCertificate(paths: CertificatePaths, stored: StoredCertificate): void;
  /** Injected clock (tests move it past the renewal point). */
  now?: () => number;
  /** First retry delay after a failure or a lock held elsewhere; doubles per failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export type CheckResult = 'valid' | 'issued' | 'locked' | 'failed';

/** Look at the store at least this often: picks up a renewal another instance made. */
const MAX_CHECK_INTERVAL = 12 * 3_600_000;

export class AcmeManager {
  readonly paths: CertificatePaths;
  /** Orders placed by this instance (the lock test counts them). */
  orders = 0;
  private readonly o: AcmeManagerOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  private current: string | null = null;
  private running: Promise<CheckResult> | null = null;

  constructor(options: AcmeManagerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.paths = certificatePaths(options.storage, options.hosts);
  }

  /** Runs the first check now and keeps checking on an unref'd timer. */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    await this.o.lock.close().catch(() => {});
  }

  /** One pass; concurrent calls share it. */
  check(): Promise<CheckResult> {
    this.running ??= this.pass().finally(() => { this.running = null; });
    return this.running;
  }

  private async pass(): Promise<CheckResult> {
    const renewBefore = this.o.acme.renewBefore;
    try {
      const stored = await readStored(this.paths, this.o.hosts);
      if (stored !== null && stored.notAfter - renewBefore > this.now()) return this.use(stored, 'valid');
      if (!(await this.o.lock.acquire())) {
        this.o.log('info', 'ACME: another instance holds the order lock; waiting for its certificate', { hosts: this.o.hosts });
        this.retry(false);
        return 'locked';
      }
      try {
        const again = await readStored(this.paths, this.o.hosts);
        if (again !== null && again.serial !== stored?.serial && again.notAfter - renewBefore > this.now()) return this.use(again, 'valid');
        this.o.log('info', stored === null ? 'ACME: ordering a certificate' : 'ACME: renewing the certificate', { hosts: this.o.hosts, directory: this.o.acme.directory });
        await this.order();
      } finally {
        await this.o.lock.release().catch(() => {});
      }
      const issued = await readStored(this.paths, this.o.hosts);
      if (issued === null) throw new Error('the issued certificate does not cover every host or does not match its key');
      this.o.log('info', 'ACME: certificate issued', { hosts: this.o.hosts, notAfter: new Date(issued.notAfter).toISOString(), serial: issued.serial });
      return this.use(issued, 'issued');
    } catch (err) {
      this.o.log('error', `ACME: could not obtain a certificate for ${this.o.hosts.join(', ')}: ${describe(err)}`, { directory: this.o.acme.directory, failures: this.failures + 1 });
      this.retry(true);
      return 'failed';
    }
  }

  private use(stored: StoredCertificate, result: CheckResult): CheckResult {
    this.failures = 0;
    if (this.current !== stored.serial && !this.stopped) {
      this.current = stored.serial;
      this.o.onCertificate(this.paths, stored);
    }
    let next = Math.min(stored.notAfter - this.o.acme.renewBefore - this.now(), MAX_CHECK_INTERVAL);
    if (next <= 0 && result === 'issued') {
      // renewBefore longer than the CA's lifetime: do not order in a loop.
      this.o.log('warn', 'ACME: renewBefore is longer than the issued certificate lives; check the config', { hosts: this.o.hosts });
      next = this.o.maxRetryMs ?? 3_600_000;
    }
    this.schedule(next);
    return result;
  }

  private async order(): Promise<void> {
    const a = this.o.acme;
    const agent = a.caCert === null ? undefined : new https.Agent({ ca: [...rootCertificates, readFileSync(a.caCert, 'utf8')] });
    // acme-client talks through one shared axios instance: trust the test CA next to the public roots.
    if (agent !== undefined) acme.axios.defaults.httpsAgent = agent;
    await probeDirectory(a.directory, agent);
    const key = await accountKey(this.o.storage, () => acme.crypto.createPrivateEcdsaKey());
    const client = new acme.Client({ directoryUrl: a.directory, accountKey: key });
    const [certKey, csr] = await acme.crypto.createCsr({ commonName: this.o.hosts[0], altNames: [...this.o.hosts] }, await acme.crypto.createPrivateEcdsaKey());
    this.orders++;
    const chain = await client.auto({
      csr,
      email: a.email,
      termsOfServiceAgreed: true,
      challengePriority: [a.challenge],
      // acme-client's own pre-check fetches http://host/ on port 80 from here: the CA's check is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        // RFC 8737 §3: for TLS-ALPN-01 the key authorization is carried by a certificate, not a body.
        if (isTlsAlpn(challenge)) this.o.challenges.setValidation(authz.identifier.value, await validationContext(authz.identifier.value, keyAuthorization));
        else this.o.challenges.set(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (authz, challenge) => {
        if (isTlsAlpn(challenge)) this.o.challenges.deleteValidation(authz.identifier.value);
        else this.o.challenges.delete(challenge.token);
      },
    });
    await writeStored(this.paths, chain, certKey.toString());
  }

  private retry(failed: boolean): void {
    const base = this.o.retryMs ?? 10_000;
    const delay = Math.min(base * 2 ** (failed ? this.failures : 0), this.o.maxRetryMs ?? 3_600_000);
    if (failed) this.failures++;
    this.schedule(delay);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.timer.unref();
  }
}

const PROBE_TIMEOUT = 10_000;

/**
 * GET the directory first (RFC 8555 §7.1.1): acme-client retries an unreachable CA for over a
 * minute and then fails with an unrelated TypeError; this fails in seconds and names the cause.
 */
function probeDirectory(url: string, agent: https.Agent | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { agent, timeout: PROBE_TIMEOUT }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the ACME directory ${url} answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`the ACME directory ${url} did not answer within ${PROBE_TIMEOUT}ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`the ACME directory ${url} is unreachable: ${err.code ?? err.message}`, { cause: err })));
  });
}

/** acme-client's Challenge type lists only http-01 and dns-01, though it orders tls-alpn-01 too. */
function isTlsAlpn(challenge: { type: string }): boolean {
  return challenge.type === 'tls-alpn-01';
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  return e.message ?? e.code ?? String(err);
}
