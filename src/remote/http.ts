// One HTTP(S) GET with an exact record of what was sent and received. No redirects are followed.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';

export type Header = [name: string, value: string];

export interface HttpRecord {
  /** Which request of the check this was: `owa-logon`, `exporttool`, `probe`. */
  name: string;
  request: { method: 'GET'; url: string; headers: Header[] };
  response: { status: number; headers: Header[] } | null;
  /**
   * `connect`: failed before the request was sent (DNS, TCP, TLS, timeout while connecting).
   * `sent`: the request went out and no response came (reset, abort, timeout, invalid HTTP).
   */
  error: { phase: 'connect' | 'sent'; code: string; message: string } | null;
  attempts: number;
  ms: number;
}

export interface Fetched {
  record: HttpRecord;
  body: string;
}

export interface GetOptions {
  agent: http.Agent | false;
  timeoutMs: number;
  maxBody: number;
}

// Exchange normally runs with self-signed or internal-CA certificates (not verified: rejectUnauthorized false), and
// old servers may only speak TLS 1.0. One context for every connection: building one per request costs milliseconds.
let context: tls.SecureContext | null = null;
function secureContext(): tls.SecureContext {
  context ??= tls.createSecureContext({ minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  return context;
}

// Server-controlled values are capped before they are stored or printed.
const MAX_HEADERS = 100;
const MAX_HEADER_VALUE = 1024;

/** A single attempt. Never rejects: failures are described in `record.error`. */
export function getOnce(base: URL, name: string, path: string, headers: Header[], opts: GetOptions): Promise<Fetched & { reused: boolean }> {
  const started = performance.now();
  const isTls = base.protocol === 'https:';
  const record: HttpRecord = { name, request: { method: 'GET', url: new URL(path, base).href, headers }, response: null, error: null, attempts: 1, ms: 0 };
  return new Promise((resolve) => {
    let connected = false;
    let finished = false;
    let reused = false;
    let done = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: HttpRecord['error']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      record.error = error;
      record.ms = Math.round(performance.now() - started);
      resolve({ record, body: Buffer.concat(chunks).toString('utf8'), reused });
    };
    const fail = (err: NodeJS.ErrnoException): void => {
      settle({ phase: connected && finished ? 'sent' : 'connect', code: err.code ?? 'ERROR', message: err.message.slice(0, 300) });
    };
    const mod = isTls ? https : http;
    const req = mod.request({
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (isTls ? 443 : 80),
      path,
      method: 'GET',
      headers: Object.fromEntries(headers),
      agent: opts.agent,
      rejectUnauthorized: false,
      ...(isTls ? { secureContext: secureContext() } : {}),
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no response within ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })), opts.timeoutMs);
    req.on('socket', (s: Socket) => {
      reused = req.reusedSocket;
      if (!s.connecting && (!isTls || reused)) connected = true;
      else s.once(isTls ? 'secureConnect' : 'connect', () => (connected = true));
    });
    req.on('finish', () => (finished = true));
    req.on('error', fail);
    req.on('response', (res) => {
      record.response = { status: res.statusCode ?? 0, headers: capHeaders(res.rawHeaders) };
      res.on('data', (c: Buffer) => {
        if (size >= opts.maxBody) return;
        chunks.push(c);
        size += c.length;
        // Enough to fingerprint; the rest is not needed and may be endless.
        if (size >= opts.maxBody) {
          settle(null);
          res.destroy();
        }
      });
      res.on('end', () => settle(null));
      // Body cut short after the headers arrived: the response still counts.
      res.on('error', () => settle(null));
      res.on('close', () => settle(null));
    });
    req.end();
  });
}

function capHeaders(raw: string[]): Header[] {
  const out: Header[] = [];
  for (let i = 0; i + 1 < raw.length && out.length < MAX_HEADERS; i += 2) out.push([raw[i].slice(0, 200), raw[i + 1].slice(0, MAX_HEADER_VALUE)]);
  return out;
}

/** Case-insensitive header lookup (first value). */
export function header(headers: Header[], name: string): string | null {
  const n = name.toLowerCase();
  const h = headers.find(([k]) => k.toLowerCase() === n);
  return h ? h[1] : null;
}
