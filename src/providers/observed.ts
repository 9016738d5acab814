/** Every built-in provider's `resolve` as a start/end pair on `credgate:provider` (and an OpenTelemetry span). */
import { CHANNELS, traced } from '../core/telemetry.js';
import type { Provider } from './types.js';

/** The same provider, its resolve observed: the event names the provider and, once answered, the credential's `source`. */
export function observed<P extends Provider>(provider: P): P {
  const resolve = provider.resolve.bind(provider);
  provider.resolve = (ref, options) => traced(CHANNELS.provider, { op: 'resolve', provider: provider.name }, () => resolve(ref, options), (c) => ({ source: c.source }));
  return provider;
}
