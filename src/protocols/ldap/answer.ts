/**
 * The LDAP answer rule, for every LDAP client in credgate (wire.ts and ldapts through strict.ts):
 * which protocolOp answers which request (RFC 4511 section 4), and what a message under a given
 * messageID may be. A breach is PROTOCOL_ERROR.
 */
import { CredgateError } from '../../core/errors.js';

const EXTENDED_RESPONSE = 0x78;

const hex = (op: number) => `0x${op.toString(16)}`;

/**
 * The protocolOps that answer each request (RFC 4511 section 4): a BindResponse answers a
 * BindRequest, SearchResultEntry / Reference / Done a SearchRequest, and so on. Anything else
 * under the request's messageID is not an answer to it.
 */
export const RESPONSE_OPS: Readonly<Record<number, readonly number[]>> = {
  0x60: [0x61], // BindRequest → BindResponse
  0x63: [0x64, 0x65, 0x73], // SearchRequest → SearchResultEntry, SearchResultDone, SearchResultReference
  0x66: [0x67], // ModifyRequest
  0x68: [0x69], // AddRequest
  0x4a: [0x6b], // DelRequest
  0x6c: [0x6d], // ModifyDNRequest
  0x6e: [0x6f], // CompareRequest
  0x77: [0x78, 0x79], // ExtendedRequest → ExtendedResponse, IntermediateResponse
};

const OP_NAMES: Readonly<Record<number, string>> = {
  0x60: 'BindRequest', 0x61: 'BindResponse', 0x63: 'SearchRequest', 0x64: 'SearchResultEntry', 0x65: 'SearchResultDone',
  0x73: 'SearchResultReference', 0x67: 'ModifyResponse', 0x69: 'AddResponse', 0x6b: 'DelResponse', 0x6d: 'ModifyDNResponse',
  0x6f: 'CompareResponse', 0x77: 'ExtendedRequest', 0x78: 'ExtendedResponse', 0x79: 'IntermediateResponse',
};
const opName = (op: number) => OP_NAMES[op] ?? `protocolOp ${hex(op)}`;

/**
 * The answer rule, for every LDAP client in credgate: a message under messageID 0 must be an
 * unsolicited notification (an ExtendedResponse: 'notice'); any other must carry the messageID of
 * the request credgate is waiting on (`pendingOp` is that request's protocolOp, undefined when
 * none is outstanding under that ID) and a protocolOp RFC 4511 pairs with it ('answer'). Anything
 * else throws PROTOCOL_ERROR: a success that is not a BindResponse never decides a bind.
 */
export function answerKind(messageId: number, op: number, pendingOp: number | undefined): 'notice' | 'answer' {
  if (messageId === 0) {
    if (op === EXTENDED_RESPONSE) return 'notice';
    throw new CredgateError(`The LDAP server sent a ${opName(op)} under messageID 0, where only an unsolicited notification (an ExtendedResponse) may be.`, { code: 'PROTOCOL_ERROR', details: { kind: 'unexpected-answer', messageId, op: hex(op) } });
  }
  if (pendingOp === undefined) {
    throw new CredgateError(`The LDAP server answered messageID ${messageId}, which credgate did not send or no longer waits on.`, { code: 'PROTOCOL_ERROR', details: { kind: 'unexpected-answer', messageId, op: hex(op) } });
  }
  if (!(RESPONSE_OPS[pendingOp] ?? []).includes(op)) {
    throw new CredgateError(`The LDAP server answered the ${opName(pendingOp)} (messageID ${messageId}) with a ${opName(op)}, which does not answer it.`, {
      code: 'PROTOCOL_ERROR', details: { kind: 'unexpected-answer', messageId, op: hex(op), request: hex(pendingOp) },
    });
  }
  return 'answer';
}

/** Whether a protocolOp carries an LDAPResult (every response but search entries and references, and intermediate responses). */
export const carriesResult = (op: number): boolean => op !== 0x64 && op !== 0x73 && op !== 0x79;
