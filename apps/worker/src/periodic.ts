/**
 * Runs `step` every `everyMs`, never two at once (a slow step delays the next instead of
 * piling up), and stop() waits for the step in hand. The one interval loop of the worker: the
 * task tracker, the callback sender, the quota report and sync, and the lease sweep use it.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly step: () => Promise<unknown>,
  ) {}

  /** Starts the loop; with `now`, runs one step at once too. */
  start({ now = false } = {}): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.everyMs);
    this.timer.unref();
    if (now) this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.step()
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
      });
  }
}
