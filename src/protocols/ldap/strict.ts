/**
 * The ldapts client held to the project's LDAP wire rules (wire.ts): every message from the
 * server is framed here first, under the one size cap (MAX_MESSAGE_BYTES), and checked before
 * ldapts sees it: a well-formed header, the messageID of a request that is waiting, a response
 * type RFC 4511 pairs with that request (a bind is decided by a BindResponse only), a
 * well-formed LDAPResult. Any breach fails every operation in flight at once with PROTOCOL_ERROR
 * and closes the connection: a hostile or broken server gets a protocol error when its bytes
 * arrive, never a buffer that grows until the timeout.
 *
 * ldapts has no public hook for its input; this replaces the instance's socketDataHandler (a
 * field that _connect and startTLS attach to the socket) and throws at once if a future version
 * renames what it relies on, rather than silently running unguarded.
 */
import type net from 'node:net';
import type { EventEmitter } from 'node:events';
import type { Client } from 'ldapts';
import { CredgateError } from '../../core/errors.js';
import { answerKind, carriesResult, decodeResponse, messageHeader, messageLength, MAX_MESSAGE_BYTES } from './wire.js';
import { WireConnectionError } from './connection.js';

interface PendingDetails {
  message: { protocolOperation?: number };
  reject(e: Error): void;
}

interface Internals {
  socketDataHandler?: (data: Buffer) => void;
  messageParser?: EventEmitter & { read(data: Buffer, pending: Map<string, PendingDetails>): void };
  messageDetailsByMessageId?: Map<string, PendingDetails>;
  socket?: net.Socket;
}

/** Hold an ldapts client to the wire rules. Call before it connects. */
export function strictClient(client: Client): Client {
  const c = client as unknown as Internals;
  const parser = c.messageParser;
  const pending = c.messageDetailsByMessageId;
  if (typeof c.socketDataHandler !== 'function' || !parser || typeof parser.read !== 'function' || !(pending instanceof Map)) {
    throw new Error('ldapts internals (socketDataHandler, messageParser, messageDetailsByMessageId) not found; strict.ts needs updating for this ldapts version');
  }
  let rest: Buffer | undefined;
  let failed = false;

  /** Fail every operation in flight with `e` and close the connection. */
  const failAll = (e: Error): void => {
    failed = true;
    rest = undefined;
    for (const [id, d] of [...pending]) {
      pending.delete(id);
      d.reject(e);
    }
    c.socket?.destroy();
  };

  // ldapts' own parse errors (a malformed entry inside a well-framed message) fail everything too;
  // without a messageID ldapts would only log them and leave the operation to time out
  parser.prependListener('error', (err: unknown) => {
    failAll(new CredgateError(`The LDAP server sent a malformed message: ${err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'unreadable'}.`, { code: 'PROTOCOL_ERROR', details: { kind: 'malformed' } }));
  });

  c.socketDataHandler = (data: Buffer): void => {
    if (failed) return;
    let buf = rest ? Buffer.concat([rest, data]) : data;
    rest = undefined;
    try {
      for (;;) {
        const n = messageLength(buf, 0, MAX_MESSAGE_BYTES);
        if (n < 0) break;
        const msg = buf.subarray(0, n);
        buf = buf.subarray(n);
        const { messageId, op } = messageHeader(msg);
        const waiting = pending.get(String(messageId));
        if (answerKind(messageId, op, waiting?.message.protocolOperation) === 'notice') {
          failAll(new WireConnectionError('The server ended the connection (notice of disconnection).', 'ECONNRESET', true));
          return;
        }
        if (carriesResult(op)) decodeResponse(msg);
        parser.read(Buffer.from(msg), pending);
        if (failed) return;
      }
    } catch (e) {
      failAll(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (buf.length) rest = Buffer.from(buf);
  };
  return client;
}
