// The LAPS provider passes the shared suite against the lab's Samba AD DC with the LAPS schema:
// auth failure = a wrong reader password, unavailable = a closed port, slow = a TCP server that
// accepts and never answers (abort mid-flight).
import net from 'node:net';
import { samba } from '../../../lab/state.js';
import { fromLaps } from '../../../../src/providers/laps.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

interface LapsState { reader: { upn: string; password: string }; computers: Record<string, { name: string; account?: string; password?: string; updatedAt?: string }> }

providerConformance('laps (Samba AD)', { auth: true, unavailable: true, slow: true }, async () => {
  const lab = samba();
  const laps = (lab as unknown as { laps: LapsState }).laps;
  const c = laps.computers.windows!;
  const base = { caFile: lab.caFile, user: laps.reader.upn };
  const closed = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const wrong = 'Not!The-Reader-Pass-3';
  return {
    provider: fromLaps({ ...base, url: lab.ldapsUrl, password: laps.reader.password }),
    okRef: c.name,
    expect: { username: c.account!, password: c.password!, domain: c.name, changedAt: new Date(c.updatedAt!) },
    notFoundRef: 'NOSUCHPC42',
    authFailProvider: fromLaps({ ...base, url: lab.ldapsUrl, password: wrong }),
    unavailableProvider: fromLaps({ ...base, url: `ldaps://127.0.0.1:${closed}`, password: laps.reader.password }),
    slowProvider: fromLaps({ ...base, url: `ldaps://127.0.0.1:${silentPort}`, password: laps.reader.password }),
    secrets: [c.password!, laps.reader.password, wrong],
    teardown: async () => {
      for (const s of held) s.destroy();
      silent.close();
    },
  };
});
