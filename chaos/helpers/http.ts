import http from 'node:http';

interface Timing {
  /** When the request was issued (it may then wait for one of the capped sockets). */
  startedAt: number;
  /** From issue to answer or failure. */
  ms: number;
  /** From the moment a socket carried it to answer or failure: the time the service (or the wire) took. */
  serviceMs: number;
}

export interface HttpAnswer extends Timing {
  status: number;
  body: unknown;
}

export interface HttpFailure extends Timing {
  status: 0;
  error: string;
}

export type HttpResult = HttpAnswer | HttpFailure;

/**
 * A loopback HTTP client with a hard cap on open sockets (what one machine can realistically hold; requests
 * beyond it wait for one) and a time limit per request once it has its socket. A refused, reset or timed-out request is a failure, never an answer: the sender still
 * owns the event.
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    maxSockets = 256,
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  postJson(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    const startedAt = Date.now();
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve) => {
      let settled = false;
      let socketAt = startedAt;
      const timing = (): Timing => {
        const now = Date.now();
        return { startedAt, ms: now - startedAt, serviceMs: now - socketAt };
      };
      const settle = (result: HttpResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const fail = (error: Error) => settle({ status: 0, error: error.message, ...timing() });
      const req = http.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text for the diagnosis
            }
            settle({ status: res.statusCode ?? 0, body: parsed, ...timing() });
          });
        },
      );
      req.once('socket', () => (socketAt = Date.now()));
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', fail);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
