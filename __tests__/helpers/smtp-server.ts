import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope sender and recipients, as the client gave them in MAIL FROM / RCPT TO. */
  from: string;
  to: string[];
  /** The authenticated user, if the client logged in. */
  user: string | null;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  raw: string;
}

export interface LocalSmtpServer {
  port: number;
  received: ReceivedMail[];
  /** Login attempts that were refused. */
  refusedLogins: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 and a random port (the `smtp-server` package, as nodemailer's own tests use),
 * requiring login with the given credentials. Plain text only (no STARTTLS): the connection never leaves the
 * machine.
 */
export async function startSmtpServer(credentials: { user: string; pass: string }): Promise<LocalSmtpServer> {
  const received: ReceivedMail[] = [];
  const state = { refusedLogins: 0 };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username });
      } else {
        state.refusedLogins += 1;
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          user: typeof session.user === 'string' ? session.user : null,
          subject: headerOf(raw, 'subject'),
          text: textPartOf(raw),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    get refusedLogins() {
      return state.refusedLogins;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A header's value, unfolded (long subjects are folded over several lines). */
function headerOf(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((item) => item.toLowerCase().startsWith(`${name}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

/** The text/plain part of a (possibly multipart) message, with quoted-printable decoded. */
function textPartOf(raw: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  const part = parts.find((item) => /content-type:\s*text\/plain/i.test(item)) ?? parts[0] ?? '';
  const [head = '', ...body] = part.split(/\r?\n\r?\n/);
  const content = body.join('\n\n');
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return content.trim();
  const bytes = content
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8').trim();
}
