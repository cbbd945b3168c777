import { describe, expect, it } from 'vitest';
import { SseParser } from '../../client/live/sse-parser.js';

describe('SseParser', () => {
  it('parses events split anywhere, with CRLF, CR and LF line ends, comments, multi-line data, ids and retry', () => {
    const stream = 'retry: 2000\r\n\r\n: keepalive\n\nid: 1\nevent: job_progress\ndata: {"a":\ndata: 1}\n\r\nid: 2\rdata: two\r\r';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.feed(stream.slice(i, i + size)));
      expect(events).toEqual([
        { id: '1', event: 'job_progress', data: '{"a":\n1}' },
        { id: '2', event: 'message', data: 'two' },
      ]);
      expect(parser.retry).toBe(2000);
    }
  });

  it('keeps the last id for events without one, and dispatches nothing for a block without data', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 7\n\ndata: x\n\nevent: reset\n\n')).toEqual([{ id: '7', event: 'message', data: 'x' }]);
  });

  it('takes the server’s unnamed events (no `event:` line) as `message`, with the id kept for resume', () => {
    const parser = new SseParser();
    const events = parser.feed('id: a.1-0\ndata: {"type":"job_progress"}\n\ndata: {"type":"notification","title":"t"}\n\n');
    expect(events).toEqual([
      { id: 'a.1-0', event: 'message', data: '{"type":"job_progress"}' },
      { id: 'a.1-0', event: 'message', data: '{"type":"notification","title":"t"}' },
    ]);
  });
});
