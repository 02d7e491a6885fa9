// The capacity model's event queue: a binary min-heap of events by time.
// --- the event queue -----------------------------------------------------------------------------
export class Heap {
  constructor() {
    this.t = [];
    this.q = [];
    this.v = [];
    this.seq = 0;
  }
  get size() {
    return this.t.length;
  }
  /** Earlier first; equal times in the order pushed (deterministic). */
  push(time, value) {
    const seq = ++this.seq;
    const { t, q, v } = this;
    let i = t.length;
    t.push(time);
    q.push(seq);
    v.push(value);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (t[up] < time || (t[up] === time && q[up] < seq)) break;
      t[i] = t[up];
      q[i] = q[up];
      v[i] = v[up];
      i = up;
    }
    t[i] = time;
    q[i] = seq;
    v[i] = value;
  }
  /** Removes the earliest; its time is in `time`, its value returned. */
  pop() {
    const { t, q, v } = this;
    this.time = t[0];
    const value = v[0];
    const lt = t.pop();
    const lq = q.pop();
    const lv = v.pop();
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && (t[child + 1] < t[child] || (t[child + 1] === t[child] && q[child + 1] < q[child]))) child++;
        if (t[child] > lt || (t[child] === lt && q[child] > lq)) break;
        t[i] = t[child];
        q[i] = q[child];
        v[i] = v[child];
        i = child;
      }
      t[i] = lt;
      q[i] = lq;
      v[i] = lv;
    }
    return value;
  }
}
