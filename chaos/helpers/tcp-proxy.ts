import net from 'node:net';

/**
 * How the proxy treats traffic (Toxiproxy's toxics, in small):
 * - `pass`: forward both ways, each chunk `latencyMs` late (order kept);
 * - `blackhole`: accept connections and swallow everything, answering nothing (a partition: the peer hangs);
 * - `reset`: answer every connection, new or open, with a TCP RST.
 */
export type ProxyMode = 'pass' | 'blackhole' | 'reset';

interface Link {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private latencyMs = 0;
  private readonly links = new Set<Link>();
  private server: net.Server | null = null;
  port = 0;
  /** Connections accepted, by the mode they met. */
  readonly accepted: Record<ProxyMode, number> = { pass: 0, blackhole: 0, reset: 0 };

  constructor(
    private readonly target: { host: string; port: number },
    private readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Healthy forwarding with `latencyMs` added to every chunk in each direction. */
  pass(latencyMs = 0): void {
    this.mode = 'pass';
    this.latencyMs = latencyMs;
  }

  /** From now on nothing is forwarded, on new connections and on the open ones alike. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Resets every open connection and every new one until the mode changes. */
  reset(): void {
    this.mode = 'reset';
    for (const link of [...this.links]) this.resetLink(link);
  }

  /**
   * Back to healthy forwarding. Connections that lived through a blackhole are reset: their bytes were
   * dropped, which TCP would never do, so they cannot carry a consistent stream any more.
   */
  heal(): void {
    for (const link of [...this.links]) this.resetLink(link);
    this.pass(0);
  }

  get openConnections(): number {
    return this.links.size;
  }

  async stop(): Promise<void> {
    for (const link of [...this.links]) this.resetLink(link);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted[this.mode] += 1;
    client.on('error', () => undefined);
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null };
    this.links.add(link);
    client.on('close', () => this.close(link));
    if (this.mode === 'blackhole') {
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.close(link));
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.mode !== 'pass') return; // blackholed: dropped on the floor
      const write = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (this.latencyMs > 0) setTimeout(write, this.latencyMs);
      else write();
    });
  }

  private resetLink(link: Link): void {
    this.links.delete(link);
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (link.upstream && !link.upstream.destroyed) link.upstream.resetAndDestroy();
  }

  private close(link: Link): void {
    if (!this.links.has(link)) return;
    this.links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  }
}
