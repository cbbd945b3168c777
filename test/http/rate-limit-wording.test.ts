/**
 * The HTTP rate limit's client keys and its 429 wording, as @fastify/rate-limit 11 made them (which the limit
 * replaced; the values below are that plugin's `normalizeIP` and @lukeed/ms's long format, recorded): an address's
 * key names its Redis counter, so a key that changed would restart every client's count on a rolling deploy.
 * (Through a real dual-stack server: test/http/cors-rate-limit.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { retryText } from '../../server/http/rate-limit.js';
import { ClientKeys } from '../../server/limits/client-key.js';
import { secondsLeft } from '../../server/limits/http-rate-limit.js';

describe('HTTP rate limit: the key of a client address', () => {
  it('IPv4 is its own key, IPv4-mapped IPv6 its IPv4 address, other IPv6 its /64 in the compressed form', () => {
    const keys = new ClientKeys();
    for (const [ip, key] of [
      ['203.0.113.7', '203.0.113.7'],
      ['::ffff:203.0.113.7', '203.0.113.7'],
      ['::FFFF:cb00:7107', '203.0.113.7'],
      ['0:0:0:0:0:ffff:203.0.113.7', '203.0.113.7'],
      ['::1', '::'],
      ['::', '::'],
      ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3:8d3::'],
      ['2001:DB8:85A3:08D3::1', '2001:db8:85a3:8d3::'],
      ['2001:db8:85a3:8d3:ffff::', '2001:db8:85a3:8d3::'],
      ['2001:db8::1', '2001:db8::'],
      ['2001:db8:0:1:2:3:4:5', '2001:db8:0:1::'],
      ['2001:0:0:1::9', '2001:0:0:1::'],
      ['fe80::1%eth0', 'fe80::'],
      ['fe80::abcd:1%2', 'fe80::'],
      ['64:ff9b::203.0.113.7', '64:ff9b::'],
      ['::203.0.113.7', '::'],
      ['1:2:3:4:5:6:203.0.113.7', '1:2:3:4::'],
      ['Not:An:Address', 'not:an:address'],
    ]) {
      expect(keys.of(ip!), ip).toBe(key);
      // Remembered: the same answer the second time.
      expect(keys.of(ip!), ip).toBe(key);
    }
  });
});

describe('HTTP rate limit: when to retry, in words', () => {
  it('seconds, minutes, hours and a day, rounded to the nearest, singular for one', () => {
    for (const [seconds, text] of [
      [0, '0 ms'],
      [1, '1 second'],
      [2, '2 seconds'],
      [59, '59 seconds'],
      [60, '1 minute'],
      [89, '1 minute'],
      [90, '2 minutes'],
      [150, '3 minutes'],
      [3599, '60 minutes'],
      [3600, '1 hour'],
      [5400, '2 hours'],
      [86_399, '24 hours'],
      [86_400, '1 day'],
    ] as const) {
      expect(retryText(seconds), String(seconds)).toBe(text);
    }
  });

  it('whole seconds left, rounded up, without counting a rounding error of the clock as a second', () => {
    // A fresh window's ms are `(now + window) - now` of performance.now() values: 60000 plus an ulp read 61 s.
    const now = 12_345.678901;
    expect((now + 60_000 - now) / 1000).toBeGreaterThan(60);
    for (const [ttl, seconds] of [
      [now + 60_000 - now, 60],
      [60_000, 60],
      [59_999.5, 60],
      [59_000, 59],
      [58_999, 59],
      [0.4, 1],
      [0, 0],
    ] as const) {
      expect(secondsLeft({ current: 1, ttl }), String(ttl)).toBe(seconds);
    }
  });
});
