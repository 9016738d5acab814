// env through the shared suite, on the real process environment with an object reference
// (test/unit/providers/conformance/local.test.ts covers the string-ref form on a given env object).
import { fromEnv } from '../../../../src/providers/env.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

const VAR = `CREDGATE_CONF_PW_${process.pid}`;
const PW = 'Env!Conformance-Pass-5';

providerConformance('env (process.env, object ref)', { auth: false, unavailable: false }, async () => {
  process.env[VAR] = PW;
  return {
    provider: fromEnv({ domain: 'PAMTEST' }),
    okRef: { passwordVar: VAR, username: 'svc-rdp' },
    expect: { username: 'svc-rdp', password: PW, domain: 'PAMTEST' },
    notFoundRef: { passwordVar: `${VAR}_UNSET`, username: 'svc-rdp' },
    secrets: [PW],
    teardown: async () => {
      delete process.env[VAR];
    },
  };
});
