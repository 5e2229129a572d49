// Flow versions kept in Redis by their hash, so a controller that restarts can resume a call
// on the exact flow version it started with, even after the file changed on disk.
import type { Redis } from '../store/redis.js';
import type { VersionStore } from './registry.js';

const KEEP_SECONDS = 7 * 24 * 3600; // far longer than any call

export function redisVersionStore(redis: Redis, prefix: string): VersionStore {
  return {
    async saveVersion(version, file, source) {
      await redis.set(`${prefix}:flow-version:${version}`, JSON.stringify({ file, source }), 'EX', KEEP_SECONDS);
    },
    async loadVersion(version) {
      const raw = await redis.get(`${prefix}:flow-version:${version}`);
      return raw ? (JSON.parse(raw) as { file: string; source: string }) : undefined;
    },
  };
}
