// The virtual-number pool (acd.virtualNumbers), live: refused at start when broken, and on
// SIGHUP applied only if every domain's files parsed (server.ts), as the ACD's settings are.
import type { Config } from '../config/index.js';
import { parsePool, type VirtualPool } from './pool.js';

export const DEFAULT_POOL_FILE = 'sip-config/virtual-numbers.yaml';

export class MaskingSettings {
  private current: VirtualPool;

  constructor(readonly file: string) {
    this.current = parsePool(file);
  }

  static fromConfig(config: Config): MaskingSettings {
    return new MaskingSettings(config.acd.virtualNumbers ?? DEFAULT_POOL_FILE);
  }

  get pool(): VirtualPool {
    return this.current;
  }

  isVirtual(did: string): boolean {
    return this.current.numbers.includes(did);
  }

  prepareReload(): () => void {
    const next = parsePool(this.file);
    return () => (this.current = next);
  }
}
