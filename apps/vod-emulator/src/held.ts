import type { ServerResponse } from 'node:http';

/**
 * Responses the emulator will never answer (timeout faults): kept until the client gives up
 * and closes the connection, or until the emulator closes and destroys them.
 */
export class HeldResponses {
  private readonly held = new Set<ServerResponse>();

  hold(res: ServerResponse): void {
    this.held.add(res);
    res.once('close', () => this.held.delete(res));
  }

  get size(): number {
    return this.held.size;
  }

  /** Destroys the connection of every held response. */
  releaseAll(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }
}
