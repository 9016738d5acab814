// The keychain provider passes the shared suite against the lab's real Secret Service
// (gnome-keyring in a private D-Bus session). No credgate credential exists for it to refuse
// (a locked keyring reads as "no item" through libsecret), and an unreachable Secret Service is
// proven in test/unit/providers/keychain-unavailable.test.ts (libsecret binds one bus per process).
import { labPart } from '../../../lab/state.js';
import { fromKeychain, loadKeytar } from '../../../../src/providers/keychain.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

const SVC = `credgate-conformance-${process.pid}-${Date.now().toString(36)}`;
const PW = 'Keyring!Conformance-Pass-9';

providerConformance('keychain (Secret Service)', { auth: false, unavailable: false }, async () => {
  Object.assign(process.env, labPart<{ env: Record<string, string> }>('keyring').env);
  const kt = (await loadKeytar('@github/keytar')) as unknown as {
    setPassword(s: string, a: string, p: string): Promise<void>;
    deletePassword(s: string, a: string): Promise<boolean>;
  };
  await kt.setPassword(SVC, 'PAMTEST\\alice', PW);
  return {
    provider: fromKeychain({ service: SVC, domain: 'PAMTEST' }),
    okRef: 'PAMTEST\\alice',
    expect: { username: 'PAMTEST\\alice', password: PW, domain: 'PAMTEST' },
    notFoundRef: 'PAMTEST\\nobody',
    secrets: [PW],
    teardown: async () => {
      await kt.deletePassword(SVC, 'PAMTEST\\alice');
    },
  };
});
