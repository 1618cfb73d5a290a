import fs from 'node:fs';
import path from 'node:path';
import { bodyLimitBytes, configSchema, ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  it('has working defaults for every variable', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      EMBEDDED_PG_DIR: './.data/postgres',
      WEBHOOK_RATE_LIMIT: 100,
      WEBHOOK_BODY_LIMIT: '1mb',
      ALLOWED_ORIGINS: [],
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.WEBHOOK_SECRET).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'not a url'],
    ['WEBHOOK_RATE_LIMIT', '-1'],
    ['WEBHOOK_BODY_LIMIT', 'huge'],
    ['EMBEDDED_PG_PORT', '0'],
    ['HEALTH_CHECK_CRON', '61 * * * *'],
    ['DEAD_LETTER_REPLAY_CRON', 'hourly'],
  ])('a bad %s (%s) fails with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', WEBHOOK_SECRET: '' }).DATABASE_URL).toBeUndefined();
  });

  it('splits ALLOWED_ORIGINS on commas', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).ALLOWED_ORIGINS).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('parses body limits', () => {
    expect(bodyLimitBytes('1mb')).toBe(1048576);
    expect(bodyLimitBytes('512kb')).toBe(524288);
    expect(bodyLimitBytes('100')).toBe(100);
  });

  it('.env.example lists every variable with its default', () => {
    const example = fs.readFileSync(path.join(__dirname, '..', '.env.example'), 'utf8');
    const listed = new Map(
      example
        .split('\n')
        .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect([...listed.keys()].sort()).toEqual(Object.keys(configSchema.shape).sort());
    const defaults = loadConfig({});
    for (const [name, value] of listed) {
      if (value === '') continue;
      expect(String(defaults[name as keyof typeof defaults])).toBe(value);
    }
  });
});
