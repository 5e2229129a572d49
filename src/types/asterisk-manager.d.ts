declare module 'asterisk-manager' {
  import type { EventEmitter } from 'node:events';
  interface Manager extends EventEmitter {
    connect(port: number, host: string, callback?: (err: Error | null) => void): void;
    login(callback: (err: unknown) => void): void;
    action(action: Record<string, string>, callback: (err: unknown, res: Record<string, string>) => void): string;
    disconnect(callback?: () => void): void;
    isConnected(): boolean;
  }
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): Manager;
  export default AsteriskManager;
}
