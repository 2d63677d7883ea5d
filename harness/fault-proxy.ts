/**
 * A loopback HTTP proxy in front of moto_server that injects the faults a real network and a real
 * AWS produce, so the SDK's own retry path (standard retry strategy, request timeouts, connection
 * errors) runs for real: HTTP 5xx answers, requests that hang until the client times out,
 * connections reset before the request reaches the service, and connections dropped AFTER the
 * service applied the request (the "lost answer" that makes a mutating call's outcome ambiguous).
 *
 * Jest-free, so the drill and benches can reuse it. Listens on 127.0.0.1 only.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does with one request:
 * - `pass`: forward it and return the answer;
 * - `{ status }`: answer with this HTTP status and an AWS-shaped error body, never forwarding;
 * - `hang`: never answer (the client's request timeout fires);
 * - `reset`: destroy the connection before forwarding (the service never sees the request);
 * - `drop-after-apply`: forward it, let the service apply it, then destroy the connection
 *   instead of answering.
 */
export type Fault = 'pass' | 'hang' | 'reset' | 'drop-after-apply' | { readonly status: number };

/** The parts of a request a rule can match on. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, e.g. `/kb-bucket/manifests/kb-snapshot-20261122-020000.json`. */
  readonly path: string;
  /** The query-protocol action (RDS, CloudWatch), e.g. `CreateDBSnapshot`, when there is one. */
  readonly action?: string;
}

export interface FaultRule {
  readonly match: (req: ProxiedRequest) => boolean;
  /** Faults for the 1st, 2nd, ... matching request; once used up, matching requests pass. */
  readonly faults: readonly Fault[];
}

export interface FaultRecord {
  readonly method: string;
  readonly path: string;
  readonly action?: string;
  readonly fault: string;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41234: point the SDK here instead of at moto. */
  readonly endpoint: string;
  /** Add a rule (rules are tried in the order added; the first with faults left applies). */
  inject(rule: FaultRule): void;
  /** Remove every rule (all requests pass) and forget what was seen. */
  clear(): void;
  /** Every request seen, with what was done to it. */
  readonly seen: readonly FaultRecord[];
  /** Stop listening and destroy every open connection (hanging requests included). */
  stop(): Promise<void>;
}

/** Match a query-protocol action (RDS, CloudWatch) by name. */
export function action(name: string): (req: ProxiedRequest) => boolean {
  return (req) => req.action === name;
}

/** Match an S3 request by method and a substring of its path. */
export function s3Request(method: string, pathPart: string): (req: ProxiedRequest) => boolean {
  return (req) => req.action === undefined && req.method === method && req.path.includes(pathPart);
}

function actionOf(path: string, body: Buffer): string | undefined {
  const fromQuery = new URL(path, 'http://x').searchParams.get('Action');
  if (fromQuery) return fromQuery;
  const text = body.toString('utf8', 0, Math.min(body.length, 4096));
  return /(?:^|&)Action=([A-Za-z0-9]+)/.exec(text)?.[1];
}

function errorBody(req: ProxiedRequest, status: number): string {
  const code = status === 503 ? 'ServiceUnavailable' : 'InternalFailure';
  if (req.action) {
    return `<ErrorResponse><Error><Type>Receiver</Type><Code>${code}</Code><Message>injected by fault-proxy</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${status === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected by fault-proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
}

/** Start a proxy on a free loopback port that forwards to `target` (moto's endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  const rules: { rule: FaultRule; used: number }[] = [];
  const seen: FaultRecord[] = [];
  const sockets = new Set<Socket>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, headers: IncomingMessage['headers'], data: Buffer) => void,
    onError: (err: Error) => void,
  ): void => {
    const upstream = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: targetUrl.host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => onAnswer(res.statusCode ?? 502, res.headers, Buffer.concat(chunks)));
        res.on('error', onError);
      },
    );
    upstream.on('error', onError);
    upstream.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const info: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ...(() => {
        const a = actionOf(req.url ?? '/', body);
        return a ? { action: a } : {};
      })(),
    };
    let fault: Fault = 'pass';
    for (const r of rules) {
      if (r.used < r.rule.faults.length && r.rule.match(info)) {
        fault = r.rule.faults[r.used]!;
        r.used += 1;
        break;
      }
    }
    seen.push({ ...info, fault: typeof fault === 'string' ? fault : `status ${fault.status}` });
    if (fault === 'hang') return;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof fault === 'object') {
      const text = errorBody(info, fault.status);
      res.writeHead(fault.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    forward(
      req,
      body,
      (status, headers, data) => {
        if (fault === 'drop-after-apply') {
          req.socket.destroy();
          return;
        }
        const out = { ...headers };
        delete out['transfer-encoding'];
        out['content-length'] = String(data.length);
        res.writeHead(status, out);
        res.end(data);
      },
      () => req.socket.destroy(),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('fault proxy: no address');
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    inject(rule) {
      rules.push({ rule, used: 0 });
    },
    clear() {
      rules.length = 0;
      seen.length = 0;
    },
    seen,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
