import type { IncomingMessage, ServerResponse } from 'node:http';
import { onConnectionCloseWhileQueued } from '../../http/queued-response.js';
import { LimitedExchange } from '../contract/limited-exchange.js';
import { tracedMessage } from '../contract/trace-context.js';
import { sendText } from '../../http/plain-text.js';
import type { ExchangeContext } from './exchange.js';
import type { RequestSpan } from '../../core/request-tracer.js';

/** The answer to a request the breaker refuses, its queue being full: 503, with Knative's text. */
export function sendQueueFull(response: ServerResponse): void {
  sendText(response, 503, 'pending request queue full\n');
}

/** The trace span of an HTTP/1.1 request that goes to the app: none for a kubelet probe, or with tracing off. */
export function requestSpan(context: ExchangeContext, request: IncomingMessage, kubeletProbe: boolean): RequestSpan | undefined {
  return kubeletProbe ? undefined : context.tracer?.start(tracedMessage(request));
}

/**
 * How an exchange for an HTTP/1.1 client starts, whether the app speaks
 * HTTP/1.1 or h2c: the end of its response is watched, the request's span
 * starts, and it asks the breaker for a slot.
 */
export abstract class Http1Exchange extends LimitedExchange {
  /**
   * Calls `onClose` when `response` closes, or its connection while it is
   * still queued behind a pipelined one; starts the trace span (not for a
   * kubelet probe, which also skips the breaker); asks for a slot.
   *
   * @returns false when the breaker's queue is full: the 503 is sent and nothing runs
   */
  protected admitRequest(context: ExchangeContext, request: IncomingMessage, response: ServerResponse, kubeletProbe: boolean, onClose: () => void): boolean {
    response.on('close', onClose);
    if (response.socket === null) onConnectionCloseWhileQueued(request, response, onClose);
    if (this.begin(context.timeouts, kubeletProbe ? undefined : context.breaker, requestSpan(context, request, kubeletProbe))) return true;
    sendQueueFull(response);
    return false;
  }
}
