import { SluiceError } from '../errors/sluice-error.js';

/** What one response may hold of its connection's budget while it is being built. */
export interface ResponseBudget {
  /** Waits until `bytes` more may be held for this response; rejects once the client is gone. */
  reserve(bytes: number): Promise<void>;
  /** Gives back everything this response holds (it read less than it reserved, or reads again). */
  releaseAll(): void;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: SluiceError) => void;
}

/**
 * The bytes one connection's responses may hold at once: those queued on its socket plus those
 * reserved by requests still reading from the log. Pausing the socket stops *new* requests; this
 * stops the ones already read, so a client with many Fetches in flight that stops reading holds
 * at most `maxBytes` plus one response, not one response per request in flight.
 */
export class SendBudget {
  private reservedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private closed = false;

  /** `changed` is called when `isWaited` may have changed. */
  constructor(private readonly maxBytes: number, private readonly queuedBytes: () => number, private readonly changed: () => void) {}

  /** A budget for one request; the connection releases it when the response is queued. */
  forRequest(): ResponseBudget {
    let held = 0;
    return {
      reserve: async (bytes) => {
        await this.acquire(bytes);
        held += bytes;
      },
      releaseAll: () => {
        if (held === 0) return;
        this.reservedBytes -= held;
        held = 0;
        this.wake();
      },
    };
  }

  /** True while some request waits for room: its connection should read no more requests. */
  get isWaited(): boolean {
    return this.waiters.length > 0;
  }

  /** Lets waiting requests go on, in arrival order, as far as the budget allows; call when queued bytes drop. */
  wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const waiter = this.waiters.shift()!;
      this.reservedBytes += waiter.bytes;
      waiter.resolve();
    }
    this.changed();
  }

  /** The client is gone: waiting requests fail, and nothing more is granted. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(gone());
  }

  private acquire(bytes: number): Promise<void> {
    if (this.closed) return Promise.reject(gone());
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.reservedBytes += bytes;
      return Promise.resolve();
    }
    const waited = new Promise<void>((resolve, reject) => this.waiters.push({ bytes, resolve, reject }));
    this.changed();
    return waited;
  }

  // One response always fits when nothing is held, so a single response larger than the budget
  // (up to maxFrameBytes) still goes out.
  private fits(bytes: number): boolean {
    const held = this.queuedBytes() + this.reservedBytes;
    return held === 0 || held + bytes <= this.maxBytes;
  }
}

function gone(): SluiceError {
  return new SluiceError('REQUEST_TIMED_OUT', 'the connection closed before the response could be read');
}
