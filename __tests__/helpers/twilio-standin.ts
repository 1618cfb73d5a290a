import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSms {
  accountSid: string;
  to: string;
  from: string;
  body: string;
  /** The Basic credentials the client sent, decoded (`sid:token`). */
  credentials: string;
  contentType: string;
  userAgent: string;
}

export interface TwilioStandIn {
  baseUrl: string;
  received: ReceivedSms[];
  /** Requests refused (bad credentials, unknown route or forced failure). */
  refused: number;
  /** Answer every message request with this status and Twilio error body (e.g. 500) until reset to null. */
  failWith: number | null;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/;

/**
 * A local stand-in for Twilio's Messages API, answering as the real one does
 * (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource): POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth (account SID and auth token) and a
 * form-encoded body (To, From, Body); 201 with the message resource as JSON; 401 with Twilio's error JSON
 * (code 20003) for bad credentials; 404 (code 20404) for anything else.
 */
export async function startTwilioStandIn(account: { sid: string; token: string }): Promise<TwilioStandIn> {
  const received: ReceivedSms[] = [];
  const state: { refused: number; failWith: number | null } = { refused: 0, failWith: null };
  const sendJson = (res: http.ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const twilioError = (res: http.ServerResponse, status: number, code: number, message: string) => {
    state.refused += 1;
    sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const match = MESSAGES_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (req.method !== 'POST' || !match)
        return twilioError(res, 404, 20404, 'The requested resource was not found');
      const authorization = req.headers.authorization ?? '';
      const credentials = authorization.startsWith('Basic ')
        ? Buffer.from(authorization.slice(6), 'base64').toString('utf8')
        : '';
      if (credentials !== `${account.sid}:${account.token}` || match[1] !== account.sid) {
        return twilioError(res, 401, 20003, 'Authenticate');
      }
      if (state.failWith !== null) return twilioError(res, state.failWith, 20500, 'Internal Server Error');
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const message: ReceivedSms = {
        accountSid: match[1],
        to: form.get('To') ?? '',
        from: form.get('From') ?? '',
        body: form.get('Body') ?? '',
        credentials,
        contentType: req.headers['content-type'] ?? '',
        userAgent: req.headers['user-agent'] ?? '',
      };
      if (!message.to || !message.from || !message.body) {
        return twilioError(res, 400, 21604, "A 'To' phone number, 'From' and 'Body' are required.");
      }
      received.push(message);
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const now = new Date().toUTCString();
      sendJson(res, 201, {
        sid,
        account_sid: message.accountSid,
        to: message.to,
        from: message.from,
        body: message.body,
        status: 'queued',
        direction: 'outbound-api',
        num_segments: '1',
        num_media: '0',
        price: null,
        price_unit: 'USD',
        error_code: null,
        error_message: null,
        api_version: '2010-04-01',
        date_created: now,
        date_updated: now,
        date_sent: null,
        messaging_service_sid: null,
        uri: `/2010-04-01/Accounts/${message.accountSid}/Messages/${sid}.json`,
        subresource_uris: { media: `/2010-04-01/Accounts/${message.accountSid}/Messages/${sid}/Media.json` },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    get refused() {
      return state.refused;
    },
    get failWith() {
      return state.failWith;
    },
    set failWith(value: number | null) {
      state.failWith = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
