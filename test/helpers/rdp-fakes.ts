// Peers that are not (proper) RDP servers, on 127.0.0.1: each answers the X.224 Connection
// Request with exactly the bytes a test names. Closed by the test.
import net from 'node:net';

export interface Fake {
  port: number;
  close(): Promise<void>;
}

/** reply(request) returns the bytes to send (or null to stay silent); end=true closes after writing. */
export async function fakeServer(reply: (req: Buffer) => Buffer | null, end = true): Promise<Fake> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', (d) => {
      const out = reply(d);
      if (out === null) return;
      if (end) s.end(out);
      else s.write(out);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

/** A Connection Confirm with an RDP_NEG_FAILURE carrying `code`. */
export function negFailure(code: number): Buffer {
  return Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x08, 0x00, code, 0, 0, 0]);
}

export const CC_NLA = Buffer.from('030000130ed000000000000203080002000000', 'hex');
export const CC_LEGACY = Buffer.from('0300000b06d00000000000', 'hex');
