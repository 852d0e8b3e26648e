// Unipile API conformance check.
//
// Drives a Unipile-compatible server (the local emulator) with the official
// Unipile Node SDK, with response validation switched on at level 'error', so
// every SDK call throws if the response does not match the SDK's TypeBox schema.
//
// Usage: node conformance.mjs <baseUrl> [apiKey]
//   baseUrl  DSN root without /api/v1, e.g. http://127.0.0.1:5081
//   apiKey   value sent as X-API-KEY (default: emulator-key)
// Env: CONFORMANCE_CALL_TIMEOUT_MS (per HTTP call, default 15000),
//      CONFORMANCE_TIMEOUT_MS (whole run, default 120000).
//
// Output: one line per check, `ok <name>` or `not ok <name>: <reason>`, then
// exactly one line `conformance: N passed, M failed`. Exit code 0 iff M == 0.

import { UnipileClient, UnsuccessfulRequestError, InvalidResponseTypeError } from 'unipile-node-sdk';
import { randomBytes } from 'node:crypto';
// TypeBox is the SDK's own validation library (its dependency, hoisted by npm);
// used only to explain *why* a union ("Expected union value") did not match.
import { Kind } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const PER_CALL_TIMEOUT_MS = Number(process.env.CONFORMANCE_CALL_TIMEOUT_MS ?? 15_000);
const OVERALL_TIMEOUT_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS ?? 120_000);

const baseUrl = (process.argv[2] ?? 'http://127.0.0.1:5081').replace(/\/+$/, '');
const apiKey = process.argv[3] ?? 'emulator-key';

if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
  console.log(`not ok arguments: baseUrl must look like http://host:port (got '${baseUrl}')`);
  console.log('conformance: 0 passed, 1 failed');
  process.exit(2);
}

// ---------------------------------------------------------------------------
// fetch instrumentation: per-call timeout + record of the last HTTP exchange.
// The SDK calls the global fetch at request time, so wrapping it here applies to
// every SDK request as well as to our own control-route calls.
// ---------------------------------------------------------------------------
const realFetch = globalThis.fetch;
let lastExchange = null;
globalThis.fetch = async (url, init = {}) => {
  const method = (init.method ?? 'GET').toUpperCase();
  const signal = init.signal ?? AbortSignal.timeout(PER_CALL_TIMEOUT_MS);
  lastExchange = { method, url: String(url), status: undefined, contentType: undefined, text: undefined };
  let res;
  try {
    res = await realFetch(url, { ...init, signal });
  } catch (err) {
    const reason = err?.name === 'TimeoutError' ? `timed out after ${PER_CALL_TIMEOUT_MS} ms` : describe(err);
    throw new Error(`${method} ${url} failed: ${reason}`);
  }
  lastExchange.status = res.status;
  lastExchange.contentType = res.headers.get('content-type');
  try {
    lastExchange.text = await res.clone().text();
  } catch {
    /* body already consumed / unreadable: keep going */
  }
  return res;
};

function lastJson() {
  if (!lastExchange?.text) return undefined;
  try {
    return JSON.parse(lastExchange.text);
  } catch {
    return undefined;
  }
}

function http() {
  if (!lastExchange) return 'no request sent';
  return `${lastExchange.method} ${lastExchange.url.replace(baseUrl, '')} -> HTTP ${lastExchange.status ?? '?'}`;
}

function truncate(s, n = 400) {
  s = String(s);
  return s.length > n ? s.slice(0, n) + '…' : s;
}

// JSON-pointer lookup ("/items/0/created_at").
function at(value, path) {
  for (const seg of path.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = value[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

// For a failed union, pick the variant whose literal discriminators ("object",
// "type") match the value and report that variant's first error, recursively.
function explain(schema, value, path, depth = 0) {
  if (depth > 8 || !schema) return `${path || '/'}: schema mismatch`;
  if (Array.isArray(schema.anyOf)) {
    const variants = schema.anyOf.filter((v) => {
      if (v.type !== 'object' || !v.properties || value === null || typeof value !== 'object') return false;
      return ['object', 'type'].every((k) => v.properties[k]?.const === undefined || v.properties[k].const === value[k]);
    });
    const discriminated = variants.filter((v) => ['object', 'type'].some((k) => v.properties[k]?.const !== undefined));
    if (discriminated.length === 1) return explain(discriminated[0], value, path, depth + 1);
    const got = value !== null && typeof value === 'object'
      ? `object=${JSON.stringify(value.object)} type=${JSON.stringify(value.type)}`
      : `value ${truncate(JSON.stringify(value), 80)}`;
    const allowed = schema.anyOf.length <= 6
      ? schema.anyOf.map((v) => (v.const !== undefined ? JSON.stringify(v.const) : v[Kind] ?? v.type)).join(' | ')
      : `${schema.anyOf.length} variants`;
    return `${path || '/'}: matches none of the allowed variants [${allowed}] (${got})`;
  }
  const first = [...Value.Errors(schema, value)][0];
  if (!first) return `${path || '/'}: schema mismatch`;
  const sub = first.schema?.anyOf ? explain(first.schema, at(value, first.path), path + first.path, depth + 1) : null;
  if (sub) return sub;
  const kind = first.schema?.const !== undefined ? ` (expected ${JSON.stringify(first.schema.const)})`
    : first.schema?.pattern ? ` (pattern ${first.schema.pattern})` : '';
  return `${path + first.path || '/'}: ${first.message}${kind}, got ${truncate(JSON.stringify(first.value), 80)}`;
}

function describe(err) {
  if (err instanceof InvalidResponseTypeError) {
    let first = 'schema mismatch';
    if (Array.isArray(err.body) && err.body[0]) {
      try {
        const e0 = err.body[0];
        first = e0.schema?.anyOf
          ? explain(e0.schema, e0.value, e0.path)
          : `${e0.path || '/'}: ${e0.message}, got ${truncate(JSON.stringify(e0.value), 80)}`;
      } catch {
        first = `${err.body[0].path || '/'}: ${err.body[0].message}`;
      }
    }
    return `SDK rejected the response (${first}; ${err.body?.length ?? '?'} schema errors) [${http()}] body=${truncate(lastExchange?.text ?? '')}`;
  }
  if (err instanceof UnsuccessfulRequestError) {
    return `non-2xx response [${http()}] body=${truncate(lastExchange?.text ?? '')}`;
  }
  if (err?.cause) return `${err.message} (${err.cause.message ?? err.cause})`;
  return err?.message || String(err);
}

class CheckFailure extends Error {}
function expect(cond, message) {
  if (!cond) throw new CheckFailure(message);
}

// ---------------------------------------------------------------------------
// check runner
// ---------------------------------------------------------------------------
let passed = 0;
let failed = 0;
const done = new Set();
let finished = false;
let current = null;

async function check(name, deps, fn) {
  const missing = deps.filter((d) => !done.has(d));
  if (missing.length > 0) {
    failed++;
    console.log(`not ok ${name}: skipped, depends on failed check(s) ${missing.join(', ')}`);
    return;
  }
  lastExchange = null;
  current = name;
  try {
    await fn();
    passed++;
    done.add(name);
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    const reason = err instanceof CheckFailure ? `${err.message} [${http()}]` : describe(err);
    console.log(`not ok ${name}: ${reason.replace(/\s*\n\s*/g, ' ')}`);
  } finally {
    current = null;
  }
}

function finish(extraFailure) {
  if (finished) return;
  finished = true;
  if (extraFailure) {
    if (current) {
      failed++;
      console.log(`not ok ${current}: interrupted (${lastExchange ? http() : 'no request sent'})`);
    }
    failed++;
    console.log(`not ok ${extraFailure}`);
  }
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const overall = setTimeout(
  () => finish(`overall-timeout: run did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`),
  OVERALL_TIMEOUT_MS,
);
overall.unref();

// Plain-JSON call to an emulator control route (no API key, outside /api/v1).
async function control(path, body) {
  const res = await globalThis.fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return res;
}

// Expect an SDK call to fail with a Unipile error envelope carrying `status`.
async function expectUnipileError(promise, status) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (!(err instanceof UnsuccessfulRequestError)) throw err;
    expect(lastExchange?.status === status, `expected HTTP ${status}, got HTTP ${lastExchange?.status}`);
    const body = err.body;
    expect(body !== null && typeof body === 'object' && !(body instanceof Blob),
      `error body was not parsed as JSON (content-type '${lastExchange?.contentType}'); the SDK only parses bodies whose content-type contains application/json`);
    expect(body.status === status, `error envelope .status should be ${status}, got ${JSON.stringify(body.status)}`);
    expect(typeof body.type === 'string' && body.type.length > 0, `error envelope .type should be a non-empty string, got ${JSON.stringify(body.type)}`);
    expect(typeof body.title === 'string' && body.title.length > 0, `error envelope .title should be a non-empty string, got ${JSON.stringify(body.title)}`);
    return err;
  }
  throw new CheckFailure(`expected an error with status ${status}, but the call succeeded: ${truncate(JSON.stringify(result))}`);
}

// ---------------------------------------------------------------------------
// the checks
// ---------------------------------------------------------------------------
const client = new UnipileClient(baseUrl, apiKey, {
  validateRequestPayload: true,
  validateRequestPayloadLevel: 'error',
});

const rand = randomBytes(4).toString('hex');
const state = {};

await check('a-connect-whatsapp', [], async () => {
  const r = await client.account.connectWhatsapp();
  const raw = lastJson();
  expect(raw?.object === 'Checkpoint', `raw object should be 'Checkpoint', got ${JSON.stringify(raw?.object)}`);
  expect(raw?.checkpoint?.type === 'QRCODE', `checkpoint.type should be 'QRCODE', got ${JSON.stringify(raw?.checkpoint?.type)}`);
  expect(typeof r.account_id === 'string' && r.account_id.length > 0, 'account_id should be a non-empty string');
  expect(typeof r.code === 'string' && r.code.startsWith('2@'), `qrcode should start with '2@', got ${JSON.stringify(r.code)}`);
  state.waId = r.account_id;
});

await check('b-connect-telegram', [], async () => {
  const r = await client.account.connectTelegram();
  const raw = lastJson();
  expect(raw?.object === 'Checkpoint', `raw object should be 'Checkpoint', got ${JSON.stringify(raw?.object)}`);
  expect(raw?.checkpoint?.type === 'QRCODE', `checkpoint.type should be 'QRCODE', got ${JSON.stringify(raw?.checkpoint?.type)}`);
  expect(typeof r.account_id === 'string' && r.account_id.length > 0, 'account_id should be a non-empty string');
  expect(typeof r.code === 'string' && r.code.startsWith('tg://login?token='),
    `qrcode should start with 'tg://login?token=', got ${JSON.stringify(r.code)}`);
  expect(r.account_id !== state.waId, 'Telegram account_id must differ from the WhatsApp one');
  state.tgId = r.account_id;
});

await check('c-get-one-whatsapp', ['a-connect-whatsapp'], async () => {
  const a = await client.account.getOne(state.waId);
  expect(a.object === 'Account', `object should be 'Account', got ${JSON.stringify(a.object)}`);
  expect(a.id === state.waId, `id should be ${state.waId}, got ${JSON.stringify(a.id)}`);
  expect(a.type === 'WHATSAPP', `type should be 'WHATSAPP', got ${JSON.stringify(a.type)}`);
});

await check('d-get-all-paged', ['a-connect-whatsapp', 'b-connect-telegram'], async () => {
  const seen = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await client.account.getAll(cursor ? { limit: 1, cursor } : { limit: 1 });
    pages++;
    expect(new URL(lastExchange.url).searchParams.get('limit') === '1', 'SDK should have sent limit=1');
    expect(page.object === 'AccountList', `object should be 'AccountList', got ${JSON.stringify(page.object)}`);
    expect(page.items.length <= 1, `limit=1 but page ${pages} has ${page.items.length} items`);
    for (const it of page.items) seen.push(it.id);
    if (page.cursor === null) break;
    expect(page.items.length === 1, `page ${pages} is empty but its cursor is not null`);
    expect(page.cursor !== cursor, `page ${pages} returned the same cursor again`);
    expect(pages < 500, 'more than 500 pages with limit=1: cursor never becomes null');
    cursor = page.cursor;
  }
  expect(seen.length >= 2, `expected at least 2 accounts in total, got ${seen.length}`);
  expect(new Set(seen).size === seen.length, `an account appeared on two pages: ${seen.join(',')}`);
  expect(seen.includes(state.waId), 'WhatsApp account missing from the listing');
  expect(seen.includes(state.tgId), 'Telegram account missing from the listing');
});

await check('e-connect-instagram-direct', [], async () => {
  const r = await client.account.connectInstagram({
    username: `conf_ig_direct_${rand}`,
    password: 'pw-conformance',
  });
  expect(r.object === 'AccountCreated', `object should be 'AccountCreated', got ${JSON.stringify(r.object)}`);
  expect(typeof r.account_id === 'string' && r.account_id.length > 0, 'account_id should be a non-empty string');
  state.igDirectId = r.account_id;
});

await check('f-connect-instagram-otp-checkpoint', [], async () => {
  const username = `conf_ig_${rand}`;
  const res = await control('/_emulator/instagram/users', {
    username,
    password: 'pw-conformance',
    checkpoints: ['OTP'],
    code: '123456',
  });
  expect(res.ok, `registering the scripted Instagram user should return 2xx, got HTTP ${res.status}`);
  const r = await client.account.connectInstagram({ username, password: 'pw-conformance' });
  expect(r.object === 'Checkpoint', `object should be 'Checkpoint', got ${JSON.stringify(r.object)}`);
  expect(r.checkpoint?.type === 'OTP', `checkpoint.type should be 'OTP', got ${JSON.stringify(r.checkpoint?.type)}`);
  state.igOtpId = r.account_id;
});

await check('g-solve-code-checkpoint', ['f-connect-instagram-otp-checkpoint'], async () => {
  const r = await client.account.solveCodeCheckpoint({
    account_id: state.igOtpId,
    provider: 'INSTAGRAM',
    code: '123456',
  });
  expect(r.object === 'AccountCreated', `object should be 'AccountCreated', got ${JSON.stringify(r.object)}`);
  expect(r.account_id === state.igOtpId, `account_id should stay ${state.igOtpId}, got ${JSON.stringify(r.account_id)}`);
});

await check('h-scan-then-reconnect-whatsapp', ['a-connect-whatsapp'], async () => {
  const res = await control(`/_emulator/accounts/${encodeURIComponent(state.waId)}/scan`, {
    phone_number: '966501234567',
  });
  expect(res.status === 200, `scan control route should return 200, got HTTP ${res.status}`);
  const r = await client.account.reconnectWhatsapp(state.waId);
  const raw = lastJson();
  expect(raw?.object === 'Checkpoint', `raw object should be 'Checkpoint', got ${JSON.stringify(raw?.object)}`);
  expect(raw?.checkpoint?.type === 'QRCODE', `checkpoint.type should be 'QRCODE', got ${JSON.stringify(raw?.checkpoint?.type)}`);
  expect(r.account_id === state.waId, `reconnect must keep the account id ${state.waId}, got ${JSON.stringify(r.account_id)}`);
  expect(typeof r.code === 'string' && r.code.startsWith('2@'), `qrcode should start with '2@', got ${JSON.stringify(r.code)}`);
});

await check('i-delete-telegram', ['b-connect-telegram'], async () => {
  const r = await client.account.delete(state.tgId);
  expect(r.object === 'AccountDeleted', `object should be 'AccountDeleted', got ${JSON.stringify(r.object)}`);
  await expectUnipileError(client.account.getOne(state.tgId), 404);
});

await check('j-webhook-create', [], async () => {
  const r = await client.webhook.create({
    source: 'account_status',
    request_url: 'http://127.0.0.1:9/unipile',
    headers: [{ key: 'Unipile-Auth', value: 's3cret' }],
  });
  expect(r.object === 'WebhookCreated', `object should be 'WebhookCreated', got ${JSON.stringify(r.object)}`);
  expect(typeof r.webhook_id === 'string' && r.webhook_id.length > 0, 'webhook_id should be a non-empty string');
  state.webhookId = r.webhook_id;
});

await check('k-webhook-list', ['j-webhook-create'], async () => {
  const list = await client.webhook.getAll();
  expect(list.object === 'WebhookList', `object should be 'WebhookList', got ${JSON.stringify(list.object)}`);
  const wh = list.items.find((w) => w.id === state.webhookId);
  expect(wh, `webhook ${state.webhookId} not in the list (ids: ${list.items.map((w) => w.id).join(',')})`);
  expect(wh.request_url === 'http://127.0.0.1:9/unipile', `request_url not echoed, got ${JSON.stringify(wh.request_url)}`);
  expect(wh.headers.some((h) => h.key === 'Unipile-Auth' && h.value === 's3cret'),
    `headers should contain Unipile-Auth: s3cret, got ${JSON.stringify(wh.headers)}`);
});

await check('l-webhook-delete', ['j-webhook-create'], async () => {
  const r = await client.webhook.delete(state.webhookId);
  expect(r.object === 'WebhookDeleted', `object should be 'WebhookDeleted', got ${JSON.stringify(r.object)}`);
  const list = await client.webhook.getAll();
  expect(!list.items.some((w) => w.id === state.webhookId), 'deleted webhook is still listed');
});

await check('m-wrong-api-key-401', [], async () => {
  const bad = new UnipileClient(baseUrl, `wrong-${rand}`, {
    validateRequestPayload: true,
    validateRequestPayloadLevel: 'error',
  });
  await expectUnipileError(bad.account.getAll(), 401);
});

finish();
