import pg from 'pg';
const connect = Reflect.get(pg.Client.prototype, 'connect') as (this: pg.Client, ...args: unknown[]) => unknown;
pg.Client.prototype.connect = function (this: pg.Client, ...args: unknown[]) {
  this.on('error', () => undefined);
  return connect.apply(this, args);
} as never;
import '../src/server';
