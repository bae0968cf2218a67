// Tasks settled per second over the last minutes, drawn by uPlot from the snapshots' totals.
import uPlot from 'uplot';

const POINTS = 240;

export class RateChart {
  private readonly times: number[] = [];
  private readonly done: number[] = [];
  private readonly failed: number[] = [];
  private last: { at: number; done: number; failed: number } | null = null;
  private plot: uPlot | null = null;

  mount(el: HTMLElement): void {
    this.plot?.destroy();
    this.plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 300),
        height: 180,
        scales: { x: { time: true } },
        series: [{}, { label: 'done / s', stroke: '#2b8a3e', width: 2 }, { label: 'failed / s', stroke: '#c92a2a', width: 2 }],
        axes: [{}, { label: 'tasks / s' }],
      },
      [this.times, this.done, this.failed],
      el,
    );
  }

  /** One snapshot's totals: the rate since the previous one. */
  add(at: number, done: number, failed: number): void {
    if (this.last && at > this.last.at) {
      const s = (at - this.last.at) / 1000;
      this.times.push(at / 1000);
      this.done.push(Math.max(0, (done - this.last.done) / s));
      this.failed.push(Math.max(0, (failed - this.last.failed) / s));
      if (this.times.length > POINTS) {
        this.times.shift();
        this.done.shift();
        this.failed.shift();
      }
      this.plot?.setData([this.times, this.done, this.failed]);
    }
    this.last = { at, done, failed };
  }
}
