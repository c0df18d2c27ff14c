import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Writable } from 'node:stream';
import { runJanitors } from '../../src/services/worker.js';

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

test('a janitor that throws is logged by name and the janitors after it still run', async () => {
  const { logger, lines } = capturingLogger();
  const ran: string[] = [];
  await runJanitors({ logger }, [
    { name: 'first', run: async () => void ran.push('first') },
    {
      name: 'broken',
      run: async () => {
        ran.push('broken');
        throw new Error('a bad row');
      },
    },
    { name: 'last', run: async () => void ran.push('last') },
  ]);
  assert.deepEqual(ran, ['first', 'broken', 'last']);
  await new Promise((resolve) => setImmediate(resolve));
  const failure = lines.find((l) => l.janitor === 'broken');
  assert.ok(failure, 'the failing janitor is logged by name');
  assert.equal(failure.level, 50);
  assert.equal(lines.filter((l) => l.level === 50).length, 1);
});

test('janitors stop being started once the worker stops', async () => {
  const { logger } = capturingLogger();
  const ran: string[] = [];
  let stopped = false;
  await runJanitors(
    { logger },
    [
      {
        name: 'a',
        run: async () => {
          ran.push('a');
          stopped = true;
        },
      },
      { name: 'b', run: async () => void ran.push('b') },
    ],
    () => stopped,
  );
  assert.deepEqual(ran, ['a']);
});
