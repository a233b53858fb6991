import cliProgress from 'cli-progress';

/**
 * Progress for long work: a bar with rate and ETA on a terminal, plain periodic lines otherwise
 * (CI logs, pipes), so logs stay readable.
 */
export class Progress {
  private bar?: cliProgress.SingleBar;
  private lastLine = 0;
  private done = 0;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly lineEveryMs = 10_000,
  ) {
    if (stream.isTTY && !process.env.CI) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {value}/{total} {rate}/s ETA {eta_formatted} {info}`,
          stream,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { rate: '0.00', info: '' });
    }
  }

  tick(n = 1, info = ''): void {
    this.done += n;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    if (this.bar) {
      this.bar.update(this.done, { rate: rate.toFixed(2), info });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= this.lineEveryMs || this.done === this.total) {
      this.lastLine = now;
      const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
      this.stream.write(
        `${this.label}: ${this.done}/${this.total} (${rate.toFixed(2)}/s, ETA ${isFinite(eta) ? eta.toFixed(0) + 's' : '?'}) ${info}\n`,
      );
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
