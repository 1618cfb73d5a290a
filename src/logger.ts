import winston from 'winston';
import type { Config } from './config';

export type Logger = winston.Logger;

/** JSON lines in production (one object per line, machine-readable); colourised text elsewhere. */
export function createLogger(config: Pick<Config, 'NODE_ENV' | 'LOG_LEVEL'>): Logger {
  const format =
    config.NODE_ENV === 'production'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.colorize(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...meta }) => {
            const details = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${details}`;
          }),
        );
  return winston.createLogger({
    level: config.LOG_LEVEL === 'silent' ? 'error' : config.LOG_LEVEL,
    silent: config.LOG_LEVEL === 'silent',
    format,
    transports: [new winston.transports.Console()],
  });
}
