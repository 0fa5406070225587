// Where the wasm threads meet: the worker threads of WasmKernels({ threads: n }), and how the
// main thread hands them a job and waits for it. The protocol (the control block, how chunks
// are claimed, who sleeps and who wakes whom, the descriptors) is wasm/jobs.ts; the workers'
// own code is wasm/gemm-worker.ts; what a chunk computes is runChunk in wasm/module.ts.
//
// A job (a product, or an element-wise kernel over rows) is written as a descriptor into the
// control block by WasmKernels, then share(count) publishes it as `count` chunks: the main
// thread runs chunk 0 itself, and all threads claim the rest from one counter until none are
// left. Every chunk computes the same numbers whichever thread runs it, so the results never
// depend on the number of threads, on timing or on who took what.

import { WORKER_SCRIPT, type WorkerData } from './gemm-worker.js';
import { CTL, jobAddress, MAX_WORKERS } from './jobs.js';
import type { WasmMemory, WasmModule } from './runtime.js';
import { platform, type EngineWorker } from '../../platform/platform.js';

/** Per-thread scratch areas (byte offsets into the memory). */
export interface Scratch {
  aPack: number;
  /** Two column tiles of B (2×KC×NR), copied contiguous by the macro-kernel. */
  bTile: number;
  bPack: number;
  bPackFloats: number;
}

export type RunChunk = (job: number, i: number, aPack: number, bTile: number, bPack: number) => void;

/** After a stall (see welcome), share only products of at least this many flops … */
const BACKOFF_SPLIT_FLOPS = 20e6;
/** … for this long, doubled (up to BACKOFF_MAX_MS) when the previous back-off ended less
 *  than BACKOFF_MS ago: a false alarm costs little, lasting contention is met in full. */
const BACKOFF_MS = 25;
const BACKOFF_MAX_MS = 400;
/** Three stalls within this long start a back-off. */
const STALL_WINDOW_MS = 100;

export class ThreadTeam {
  /** Threads, the main one included. */
  readonly size: number;
  private workers: EngineWorker[];
  private readonly ctl: Int32Array;
  /** Id of the next chunk to hand out (see the protocol in wasm/jobs.ts). */
  private nextChunk = 0;
  /** performance.now() until which small jobs stay on this thread (0: none). */
  private backoffUntil = 0;
  /** The length of the last back-off, and when it ended. */
  private backoffMs = BACKOFF_MS;
  private backoffEnded = -Infinity;
  /** This thread's time in the jobs in a row of which the workers took no chunk. */
  private absentMs = 0;
  /** When the last two stalls ended (performance.now()). */
  private readonly stallTimes = [-Infinity, -Infinity];
  /** Stalls and absences seen (for diagnostics). */
  stalls = 0;
  /** Shared jobs, chunks, chunks the main thread ran, and ms it waited for the workers (diagnostics). */
  readonly shared = { jobs: 0, chunks: 0, mine: 0, waitMs: 0, longWaits: 0, absences: 0, maxWaitMs: 0 };

  /**
   * Starts size − 1 workers on `module` and `memory`, with the control block at byte 0 of the
   * memory. scratch[0] is the main thread's, scratch[w] worker w's; WasmKernels may move their
   * bPack areas later (they are read at every share).
   */
  constructor(module: WasmModule, memory: WasmMemory, private readonly scratch: Scratch[],
    private readonly runChunk: RunChunk, private readonly spinMicros: number) {
    this.size = scratch.length;
    if (this.size - 1 > MAX_WORKERS) throw new Error(`at most ${MAX_WORKERS + 1} threads, got ${this.size}`);
    this.ctl = new Int32Array(memory.buffer, 0, CTL.INTS);
    this.ctl[CTL.SPIN] = spinMicros;
    const p = platform();
    this.workers = Array.from({ length: this.size - 1 }, (_, w) => {
      const data: WorkerData = { module, memory, ctlOffset: 0, index: w };
      return p.startWorker(WORKER_SCRIPT, data);
    });
  }

  /** Resolves once every worker is ready. */
  ready(): Promise<void> {
    return Promise.all(this.workers.map((w) => w.ready())).then(() => undefined);
  }

  /** Stops the workers. */
  close(): void {
    if (this.workers.length === 0) return;
    const ws = this.workers;
    this.workers = [];
    Atomics.store(this.ctl, CTL.STOP, 1);
    Atomics.add(this.ctl, CTL.POSTED, 1);
    Atomics.notify(this.ctl, CTL.POSTED);
    for (const w of ws) w.terminate();
  }

  /**
   * Whether to share a job of this many floating-point operations (0: a small element-wise
   * one) with the workers. Normally yes. But when another process has a core, a
   * worker can be descheduled in the middle of a chunk it claimed, and the main thread then
   * waits for it for a scheduler time slice (milliseconds) — far longer than a per-step job
   * takes alone; and a worker that gets no core at all only takes CPU time from the main
   * thread by polling. share() notices either and, for a while (BACKOFF_MS, doubling while
   * it recurs, up to BACKOFF_MAX_MS), shares only the large products (whose chunks take
   * milliseconds anyway). Results are the same bits either way; only the timing changes.
   */
  welcome(flops: number): boolean {
    if (this.backoffUntil === 0) return true;
    const now = performance.now();
    if (now >= this.backoffUntil) {
      this.backoffUntil = 0;
      this.backoffEnded = now;
      Atomics.store(this.ctl, CTL.SPIN, this.spinMicros);
      return true;
    }
    return flops >= BACKOFF_SPLIT_FLOPS;
  }

  /** Keeps small jobs on this thread for a while, and lets the workers sleep right after a job. */
  private backOff(): void {
    const now = performance.now();
    this.backoffMs = now - this.backoffEnded < BACKOFF_MS ? Math.min(BACKOFF_MAX_MS, 2 * this.backoffMs) : BACKOFF_MS;
    this.backoffUntil = now + this.backoffMs;
    Atomics.store(this.ctl, CTL.SPIN, 0);
    this.stalls++;
  }

  /**
   * Publishes the descriptor just written as `count` chunks, claims and runs chunks
   * alongside the workers until none are left, then waits for their last ones (see
   * wasm/jobs.ts for the protocol).
   */
  share(count: number): void {
    const ctl = this.ctl, s = this.scratch[0];
    for (let w = 1; w < this.size; w++) {
      const ws = this.scratch[w], at = CTL.WS + 3 * (w - 1);
      ctl[at] = ws.aPack; ctl[at + 1] = ws.bTile; ctl[at + 2] = ws.bPack;
    }
    const base = this.nextChunk, end = (base + count) | 0;
    this.nextChunk = end;
    ctl[CTL.BASE] = base;
    // Chunk 0 is always this thread's (claimed before the others are published), so with one
    // worker that worker gets chunk 1 unless it is late: each thread keeps working on the same
    // part of the same weights from one step to the next (for a one-row product, its half of B
    // stays in its own core's cache). With more workers, they take chunks 1… in claim order.
    Atomics.store(ctl, CTL.NEXT, (base + 1) | 0);
    Atomics.store(ctl, CTL.END, end); // publishes the descriptor: chunks may be claimed from here on
    Atomics.add(ctl, CTL.POSTED, 1);
    // A sleeping worker takes a while to wake (far longer than a job): whatever it then does or fails
    // to do for this job says nothing about whether it gets a core.
    const asleep = Atomics.load(ctl, CTL.W_SLEEPS) !== 0; // how many workers are asleep
    if (asleep) Atomics.notify(ctl, CTL.POSTED);

    const job = jobAddress(0); // the control block is at 0
    const t0 = performance.now();
    this.runChunk(job, 0, s.aPack, s.bTile, s.bPack);
    Atomics.add(ctl, CTL.FINISHED, 1);
    let mine = 1;
    for (;;) {
      const v = Atomics.load(ctl, CTL.NEXT);
      if (((end - v) | 0) <= 0) break;
      if (Atomics.compareExchange(ctl, CTL.NEXT, v, (v + 1) | 0) !== v) continue;
      this.runChunk(job, (v - base) | 0, s.aPack, s.bTile, s.bPack);
      Atomics.add(ctl, CTL.FINISHED, 1);
      mine++;
    }
    // A worker that took no chunk of the jobs of a while is not getting a core (another
    // process has it): posting to it only costs, and its polling takes CPU time from this
    // thread. Back off as after a stall.
    this.shared.jobs++;
    this.shared.chunks += count;
    this.shared.mine += mine;
    const busyMs = performance.now() - t0;
    if (asleep || busyMs < 0.02) {
      // No evidence either way: a sleeping worker takes a while to wake, and a polling one
      // needs a moment to claim a chunk, which a job this short may not leave it.
    } else if (mine === count && count > 1) {
      // Back off once the worker has claimed nothing for 2 ms of this thread's work: longer
      // than a hiccup of the virtual machine, shorter than a scheduler time slice.
      this.absentMs += busyMs;
      if (this.absentMs >= 2) {
        this.absentMs = 0;
        this.shared.absences++;
        this.backOff();
      }
    } else {
      this.absentMs = 0;
    }

    // Wait for the chunks the workers may still be running: poll, then sleep.
    let done = Atomics.load(ctl, CTL.FINISHED);
    if (done !== end) {
      const t1 = performance.now(), until = t1 + this.spinMicros / 1000;
      do {
        for (let i = 0; i < 256 && done !== end; i++) done = Atomics.load(ctl, CTL.FINISHED);
      } while (done !== end && performance.now() < until);
      if (done !== end) {
        Atomics.store(ctl, CTL.M_SLEEPS, 1);
        while (done !== end) {
          Atomics.wait(ctl, CTL.FINISHED, done);
          done = Atomics.load(ctl, CTL.FINISHED);
        }
        Atomics.store(ctl, CTL.M_SLEEPS, 0);
      }
      // A wait much longer than this thread's own share of the work: a worker was
      // descheduled mid-chunk (see welcome).
      const t2 = performance.now();
      this.shared.waitMs += t2 - t1;
      if (t2 - t1 > this.shared.maxWaitMs) this.shared.maxWaitMs = t2 - t1;
      if (!asleep && t2 - t1 > 4 * (t1 - t0) + 0.2) {
        // One such wait can be a hiccup of the virtual machine (a vCPU paused for a few ms
        // happens even on an idle machine); three within STALL_WINDOW_MS are a pattern.
        this.shared.longWaits++;
        if (t2 - this.stallTimes[0] < STALL_WINDOW_MS) this.backOff();
        this.stallTimes[0] = this.stallTimes[1];
        this.stallTimes[1] = t2;
      }
    }
    if (Atomics.load(ctl, CTL.ERROR) !== 0) {
      Atomics.store(ctl, CTL.ERROR, 0);
      throw new Error('WasmKernels: the worker thread failed on its part of a job');
    }
  }}
