import assert from 'node:assert/strict';
import { request, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ProxyOptions } from '../src/proxy/proxy.js';
import { monotonicNow } from '../src/core/clock.js';
import { get, until } from './helpers/http.js';
import { proxyPair } from './helpers/proxy.js';
import { exchange, RawClient, requestHead } from './helpers/raw.js';

const pair = proxyPair;

/**
 * An app that holds every request until `open()`, then answers each (held or
 * new) with `ok <path>`; it records the paths it saw, and how many requests
 * it had at once.
 */
function gatedApp() {
  const held: ServerResponse[] = [];
  const state = { open: false, now: 0, max: 0, seen: [] as string[] };
  const answer = (res: ServerResponse): void => void res.end(`ok ${res.req.url}`);
  const listener: RequestListener = (req, res) => {
    state.seen.push(req.url ?? '');
    state.now++;
    state.max = Math.max(state.max, state.now);
    res.once('close', () => state.now--);
    if (req.url === '/fail') req.socket.destroy();
    else if (state.open) answer(res);
    else held.push(res);
  };
  return {
    state,
    listener,
    open(): void {
      state.open = true;
      for (const res of held.splice(0)) answer(res);
    },
  };
}

/** A gated app behind a proxy with `options`, and a GET to `/first` that holds one slot at the app (not answered until `app.open()`). */
async function slotTaken(options: Partial<ProxyOptions>) {
  const app = gatedApp();
  const env = await pair(app.listener, options);
  const first = get(env.proxy.port, '/first');
  await until(() => app.state.seen.length === 1, 'the first at the app');
  return { app, env, first };
}

/** A GET that the client abandons once `leave` resolves; resolves when the client gave up or got an answer. */
function abandonedGet(port: number, path: string, leave: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const client = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    client.on('error', () => resolve());
    client.end();
    void leave.then(() => client.destroy());
  });
}

describe('breaker', () => {
  it('with 1 slot and 20 requests at once: the app sees 1 at a time, 20 - 1 - 10 get 503, the rest 200, and the gauge counts the queue', async () => {
    const app = gatedApp();
    const env = await pair(app.listener, { containerConcurrency: 1 });
    try {
      let answered = 0;
      const replies = Array.from({ length: 20 }, (_, i) =>
        get(env.proxy.port, `/${i}`).then((reply) => {
          answered++;
          return reply;
        }),
      );
      await until(() => answered === 9 && env.proxy.queueDepth === 10 && env.stats.inFlight === 11, 'one at the app, ten queued, nine refused');
      // The stats count from arrival, before the queue, as Knative's handler does: 11 in flight, 1 at the app.
      assert.deepEqual([env.stats.inFlight, app.state.now, env.proxy.queueDepth], [11, 1, 10]);
      assert.equal(env.stats.report(monotonicNow()).requestCount, 20);
      await new Promise((r) => setTimeout(r, 100));
      const average = env.stats.report(monotonicNow()).averageConcurrency;
      assert.ok(Math.abs(average - 11) < 1e-9, `average concurrency ${average}`);
      app.open();
      const results = await Promise.all(replies);
      const refused = results.filter((r) => r.status === 503);
      assert.equal(refused.length, 20 - 1 - 10);
      assert.ok(refused.every((r) => r.body === 'pending request queue full\n'));
      assert.equal(results.filter((r) => r.status === 200).length, 11);
      assert.deepEqual([app.state.max, app.state.seen.length, env.proxy.queueDepth, env.proxy.queuedRequests], [1, 11, 0, 10]);
      assert.ok(env.proxy.queuedMs > 0);
      await until(() => env.stats.inFlight === 0, 'the out-events');
    } finally {
      await env.close();
    }
  });

  it('serves queued requests in arrival order', async () => {
    const { app, env, first } = await slotTaken({ containerConcurrency: 1 });
    try {
      const queued: Promise<unknown>[] = [];
      for (const path of ['/a', '/b', '/c']) {
        queued.push(get(env.proxy.port, path));
        await until(() => env.proxy.queueDepth === queued.length, `${path} queued`);
      }
      app.open();
      await Promise.all([first, ...queued]);
      assert.deepEqual(app.state.seen, ['/first', '/a', '/b', '/c']);
    } finally {
      await env.close();
    }
  });

  it('honours maxQueueDepth: with 1 slot and a depth of 2, the fourth request gets 503', async () => {
    const app = gatedApp();
    const env = await pair(app.listener, { containerConcurrency: 1, maxQueueDepth: 2 });
    try {
      const replies = [1, 2, 3].map((i) => get(env.proxy.port, `/${i}`));
      await until(() => env.proxy.queueDepth === 2, 'two queued');
      assert.deepEqual(await get(env.proxy.port, '/4'), { status: 503, body: 'pending request queue full\n' });
      app.open();
      assert.deepEqual(
        (await Promise.all(replies)).map((r) => r.status),
        [200, 200, 200],
      );
    } finally {
      await env.close();
    }
  });

  it('drops a queued request whose client leaves, before it reaches the app', async () => {
    const { app, env, first } = await slotTaken({ containerConcurrency: 1 });
    try {
      let leave!: () => void;
      const left = abandonedGet(env.proxy.port, '/gone', new Promise<void>((resolve) => (leave = resolve)));
      await until(() => env.proxy.queueDepth === 1, 'the second queued');
      leave();
      await left;
      await until(() => env.proxy.queueDepth === 0 && env.stats.inFlight === 1, 'the queue to empty');
      app.open();
      await first;
      assert.deepEqual(await get(env.proxy.port, '/next'), { status: 200, body: 'ok /next' });
      assert.deepEqual(app.state.seen, ['/first', '/next']);
      assert.equal(env.proxy.queuedRequests, 0);
    } finally {
      await env.close();
    }
  });

  it('answers 504 to a queued request whose response-start timeout passes in the queue; it never reaches the app', async () => {
    const held: ServerResponse[] = [];
    const seen: string[] = [];
    const env = await pair(
      (req, res) => {
        seen.push(req.url ?? '');
        // The head at once, so that only the queued request's response start is late.
        res.writeHead(200).write('started ');
        held.push(res);
      },
      { containerConcurrency: 1, responseStartTimeoutMs: 200 },
    );
    try {
      const first = get(env.proxy.port, '/first');
      await until(() => held.length === 1, 'the first at the app');
      const started = monotonicNow();
      assert.deepEqual(await get(env.proxy.port, '/queued'), { status: 504, body: 'upstream timed out\n' });
      const waited = monotonicNow() - started;
      assert.ok(waited >= 150 && waited < 1500, `504 after ${waited} ms`);
      assert.deepEqual([env.proxy.queueDepth, env.proxy.queuedRequests], [0, 0]);
      held[0]!.end('done');
      assert.deepEqual(await first, { status: 200, body: 'started done' });
      assert.deepEqual(seen, ['/first']);
    } finally {
      await env.close();
    }
  });

  it('lets kubelet probes past the limit: a probe reaches the app while the only slot is taken', async () => {
    const { app, env, first } = await slotTaken({ containerConcurrency: 1, maxQueueDepth: 1 });
    try {
      const probe = get(env.proxy.port, '/probe', { 'user-agent': 'kube-probe/1.30' });
      await until(() => app.state.seen.length === 2, 'the probe at the app');
      assert.deepEqual([app.state.now, env.proxy.queueDepth], [2, 0]);
      app.open();
      assert.deepEqual(await probe, { status: 200, body: 'ok /probe' });
      await first;
    } finally {
      await env.close();
    }
  });

  it('leaks no slot: after a client gone, an upstream reset, timeouts in and out of the queue and a refusal, 2 new requests run at once', async () => {
    const app = gatedApp();
    const env = await pair(app.listener, { containerConcurrency: 2, maxQueueDepth: 2, responseStartTimeoutMs: 300 });
    try {
      let leave!: () => void;
      const running = [abandonedGet(env.proxy.port, '/gone', new Promise<void>((resolve) => (leave = resolve))), get(env.proxy.port, '/slow')];
      await until(() => app.state.seen.length === 2, 'two at the app');
      const queued = [get(env.proxy.port, '/queued-timeout'), abandonedGet(env.proxy.port, '/queued-gone', new Promise((r) => setTimeout(r, 100)))];
      await until(() => env.proxy.queueDepth === 2, 'two queued');
      assert.equal((await get(env.proxy.port, '/refused')).status, 503);
      leave();
      await running[0];
      // The slot of /gone went to /queued-timeout or /queued-gone, whichever is still waiting.
      await until(() => app.state.seen.length === 3, 'a queued one admitted');
      const results = await Promise.all([running[1], queued[0]]);
      await queued[1];
      assert.deepEqual((results as { status: number }[]).map((r) => r.status).sort(), [504, 504]);
      assert.equal((await get(env.proxy.port, '/fail')).status, 502);
      await until(() => env.stats.inFlight === 0 && app.state.now === 0, 'everything to end');
      const pairOfNew = [get(env.proxy.port, '/new-1'), get(env.proxy.port, '/new-2')];
      await until(() => app.state.now === 2, 'two new requests at the app at once', 2000);
      assert.equal(env.proxy.queueDepth, 0);
      app.open();
      assert.deepEqual(
        (await Promise.all(pairOfNew)).map((r) => r.status),
        [200, 200],
      );
    } finally {
      await env.close();
    }
  });
});

/** Waits `ms` milliseconds. */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A GET of `path` through a proxy with `options` to an app serving `listener`: the reply and the milliseconds it took. */
async function timedReply(listener: RequestListener, options: Partial<ProxyOptions>, path = '/'): Promise<[{ status: number; body: string }, number]> {
  const env = await pair(listener, options);
  try {
    const started = monotonicNow();
    const reply = await get(env.proxy.port, path);
    return [reply, monotonicNow() - started];
  } finally {
    await env.close();
  }
}

describe('revision timeouts', () => {
  it('total, after the head of a chunked response: ends it with the timeout text, as Knative does (status kept)', async () => {
    const [reply, ms] = await timedReply((_req, res) => void res.writeHead(200).write('partial '), { timeoutMs: 300 });
    assert.deepEqual(reply, { status: 200, body: 'partial upstream timed out\n' });
    assert.ok(ms >= 250 && ms < 2000, `ended after ${ms} ms`);
  });

  it('total, after the head of a response of known length: cuts the connection after the bytes sent', async () => {
    const env = await pair((_req, res) => void res.writeHead(200, { 'content-length': '100' }).write('partial '), { timeoutMs: 300 });
    try {
      const received = await exchange(env.proxy.port, requestHead('GET', '/', [['Host', 'x']]));
      assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(received.endsWith('\r\n\r\npartial '), JSON.stringify(received));
    } finally {
      await env.close();
    }
  });

  it('response start: 504 when no head arrives in time, counted from arrival', async () => {
    const [reply, ms] = await timedReply(() => {}, { responseStartTimeoutMs: 200 });
    assert.deepEqual(reply, { status: 504, body: 'upstream timed out\n' });
    assert.ok(ms >= 150 && ms < 1500, `504 after ${ms} ms`);
  });

  it('response start: does not apply once the head is out', async () => {
    const [reply] = await timedReply(
      (_req, res) => {
        res.writeHead(200).write('head ');
        setTimeout(() => res.end('then body'), 400);
      },
      { responseStartTimeoutMs: 200 },
    );
    assert.deepEqual(reply, { status: 200, body: 'head then body' });
  });

  it('idle: a response that writes more often than the idle timeout runs past it', async () => {
    const [reply] = await timedReply(
      (_req, res) => {
        let n = 0;
        const tick = setInterval(() => {
          res.write(String(n++));
          if (n === 6) {
            clearInterval(tick);
            res.end();
          }
        }, 80);
      },
      { idleTimeoutMs: 200 },
    );
    assert.deepEqual(reply, { status: 200, body: '012345' });
  });

  it('idle: 504 with nothing written since arrival', async () => {
    const [reply, ms] = await timedReply(() => {}, { idleTimeoutMs: 200 });
    assert.deepEqual(reply, { status: 504, body: 'upstream timed out\n' });
    assert.ok(ms >= 150 && ms < 1500, `504 after ${ms} ms`);
  });

  it('idle: after a write and a pause, the response ends with the timeout text', async () => {
    const [reply] = await timedReply((_req, res) => void res.writeHead(200).write('a'), { idleTimeoutMs: 200 });
    assert.deepEqual(reply, { status: 200, body: 'aupstream timed out\n' });
  });
});

/** An app that answers upgrades with 101 and echoes the tunnel's bytes, behind a proxy; plain requests get `ok`. */
async function tunnelPair(options: Partial<ProxyOptions>) {
  const app = gatedApp();
  const env = await pair(app.listener, options);
  env.app.server.on('upgrade', (_req, socket: Socket) => {
    socket.on('error', () => {});
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    socket.pipe(socket);
  });
  const openTunnel = async (): Promise<RawClient> => {
    const client = await RawClient.connect(env.proxy.port);
    client.write(
      requestHead('GET', '/ws', [
        ['Host', 'x'],
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
      ]),
    );
    await until(() => client.received.includes('\r\n\r\n') || client.closed, 'the upgrade answer');
    return client;
  };
  return { ...env, app, openTunnel };
}

describe('upgrades', () => {
  it('an open tunnel is not cut by the response-start timeout (knative/serving#16169), but is by the total timeout', async () => {
    const env = await tunnelPair({ responseStartTimeoutMs: 150, timeoutMs: 700 });
    try {
      const started = monotonicNow();
      const client = await env.openTunnel();
      assert.match(client.received, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      await sleep(400);
      client.write('still-open');
      await until(() => client.received.endsWith('still-open'), 'the echo after the response-start timeout');
      await client.whenClosed(3000);
      const ms = monotonicNow() - started;
      assert.ok(ms >= 650 && ms < 3000, `closed after ${ms} ms`);
      await until(() => env.stats.inFlight === 0, 'the out-event');
    } finally {
      await env.close();
    }
  });

  it('an upgrade takes a breaker slot and holds it while the tunnel is open; a full queue answers it 503', async () => {
    const env = await tunnelPair({ containerConcurrency: 1, maxQueueDepth: 1 });
    try {
      env.app.open();
      const tunnel = await env.openTunnel();
      assert.match(tunnel.received, /^HTTP\/1\.1 101 /);
      const queued = get(env.proxy.port, '/queued');
      await until(() => env.proxy.queueDepth === 1, 'a request queued behind the tunnel');
      const refused = await env.openTunnel();
      assert.match(await refused.whenClosed(), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*pending request queue full\n$/);
      assert.deepEqual(env.app.state.seen, []);
      tunnel.destroy();
      assert.deepEqual(await queued, { status: 200, body: 'ok /queued' });
      assert.deepEqual([env.proxy.queueDepth, env.proxy.queuedRequests], [0, 1]);
    } finally {
      await env.close();
    }
  });
});
