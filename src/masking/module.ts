// Virtual numbers' one way in (README "Virtual numbers"): the pool (./settings.ts, live), the
// bindings of A and B to a number X, the calls to X (the far leg, recorded), the binding API.
// A call to X that is not the caller's goes on to the 12345 flow along the calls domain's
// hand-offs (calls/event-path.ts), never by calling the IVR itself.
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import type { RecordingService } from '../recording/service.js';
import { BindingStore } from './bindings.js';
import { MaskedCalls } from './calls.js';
import { registerMaskingRoutes } from './routes.js';
import type { MaskingSettings } from './settings.js';

export interface MaskingDomain extends Domain {
  bindings: BindingStore;
  /** The calls to virtual numbers: the IVR starts them, the event path gives them their events. */
  calls: MaskedCalls;
}

export function createMasking(
  core: Core,
  deps: { settings: MaskingSettings; recordings: RecordingService },
): MaskingDomain {
  const { settings } = deps;
  const bindings = new BindingStore(core.redis, core.prefix, () => settings.pool.numbers, {
    get ttlHours() {
      return settings.pool.ttlHours;
    },
    get maxCalls() {
      return settings.pool.maxCallsPerBinding;
    },
  });
  const calls = new MaskedCalls({
    bindings,
    isVirtual: (did) => settings.isVirtual(did),
    calls: core.calls,
    recordings: deps.recordings,
    logger: core.logger,
  });
  registerMaskingRoutes(core.app, bindings, core.authn);
  return {
    name: 'masking',
    bindings,
    calls,
    prepareReload: () => settings.prepareReload(),
  };
}
