// `processes` (src/dataplane): validated, 'auto' resolved, and what cannot run in several
// data-plane processes refused with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, tmpdir } from 'node:os';
import { validateConfig } from './validate.ts';

const routes = [{ path: '/', respond: { status: 200, body: 'ok' } }];

function resolved(extra: Record<string, unknown>) {
  const result = validateConfig({ routes, ...extra }, tmpdir());
  if (!result.ok) assert.fail(JSON.stringify(result.issues));
  return result.config;
}

function issues(extra: Record<string, unknown>) {
  const result = validateConfig({ routes, ...extra }, tmpdir());
  assert.equal(result.ok, false);
  return result.ok ? [] : result.issues;
}

test('processes defaults to 1, takes a positive integer, and auto is one per core', () => {
  assert.equal(resolved({}).processes, 1);
  assert.equal(resolved({ processes: 3 }).processes, 3);
  assert.equal(resolved({ processes: 'auto' }).processes, availableParallelism());
});

test('processes refuses zero, fractions and other strings, naming the field', () => {
  for (const bad of [0, -1, 1.5, 'all']) {
    const found = issues({ processes: bad });
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].path, 'processes');
    assert.match(found[0].message, /positive integer or "auto"/);
  }
});

test('ACME with several processes is refused: the challenge answer lives in one process', () => {
  const acme = { acme: { directory: 'https://acme.example/dir', email: 'a@example.com' } };
  const found = issues({ processes: 2, listeners: [{ port: 0 }, { port: 0, tls: acme }] });
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.equal(found[0].path, 'processes');
  assert.match(found[0].message, /listeners\[1\]\.tls\.acme/);
  // One process keeps ACME as it was.
  assert.equal(resolved({ processes: 1, listeners: [{ port: 0, tls: acme }] }).processes, 1);
});
