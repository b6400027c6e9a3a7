/**
 * The part of `ws` (8.x) that kubeloop uses. `ws` ships no types and `@types/ws` is not a dependency: these
 * declarations stay internal (no exported signature of kubeloop names a `ws` type), so users never need them.
 */
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { ClientRequest, IncomingMessage, Server as HttpServer } from 'node:http';
  import type { Duplex } from 'node:stream';
  import type { Server as HttpsServer } from 'node:https';

  type Data = Buffer | ArrayBuffer | Buffer[];

  export interface ClientOptions {
    protocolVersion?: number;
    headers?: Record<string, string | string[]>;
    perMessageDeflate?: boolean;
    handshakeTimeout?: number;
    maxPayload?: number;
    followRedirects?: boolean;
    skipUTF8Validation?: boolean;
    generateMask?: (mask: Buffer) => void;
    ca?: string;
    cert?: string;
    key?: string;
    servername?: string;
    rejectUnauthorized?: boolean;
    createConnection?: (options: object, callback: (err: Error | null, socket?: Duplex) => void) => Duplex | undefined;
  }

  export default class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    constructor(address: string, protocols?: string | string[], options?: ClientOptions);
    readonly OPEN: 1;
    readonly protocol: string;
    readonly readyState: 0 | 1 | 2 | 3;
    readonly bufferedAmount: number;
    readonly isPaused: boolean;
    binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments';
    send(data: Buffer | Uint8Array | string, options: { binary?: boolean }, cb?: (err?: Error) => void): void;
    send(data: Buffer | Uint8Array | string, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    ping(data?: Buffer): void;
    pause(): void;
    resume(): void;
    on(event: 'open', listener: () => void): this;
    on(event: 'message', listener: (data: Data, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'pong', listener: (data: Buffer) => void): this;
    on(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    once(event: string, listener: (...args: never[]) => void): this;
  }

  export interface ServerOptions {
    port?: number;
    host?: string;
    server?: HttpServer | HttpsServer;
    noServer?: boolean;
    perMessageDeflate?: boolean;
    handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
    verifyClient?: (
      info: { origin: string; secure: boolean; req: IncomingMessage },
      callback: (result: boolean, code?: number, message?: string) => void,
    ) => void;
  }

  export class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions, callback?: () => void);
    address(): { port: number; address: string } | string;
    readonly clients: Set<WebSocket>;
    close(callback?: (err?: Error) => void): void;
    handleUpgrade(
      request: IncomingMessage,
      socket: Duplex,
      head: Buffer,
      callback: (ws: WebSocket, request: IncomingMessage) => void,
    ): void;
    on(event: 'connection', listener: (ws: WebSocket, request: IncomingMessage) => void): this;
    on(event: 'listening', listener: () => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
  }
}
