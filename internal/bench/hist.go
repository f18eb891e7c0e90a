package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a reported percentile is within 1/128 (< 0.8 %) of the true value.
const subBits = 7

// histBuckets covers every non-negative int64 nanosecond value.
const histBuckets = (64 - subBits + 1) << subBits

// Histogram is a log-linear latency histogram with constant memory,
// safe for concurrent Record calls (atomic counters, no lock). The maximum
// is exact.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64 // nanoseconds
	max    atomic.Int64
}

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)<<subBits + int(v>>shift) - 1<<subBits
}

// bucketValue is the midpoint of a bucket, in nanoseconds.
func bucketValue(i int) float64 {
	if i < 1<<subBits {
		return float64(i)
	}
	shift := i>>subBits - 1
	sub := uint64(i&(1<<subBits-1)) + 1<<subBits
	lo := sub << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Reset forgets every observation. It must not run concurrently with
// Record.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Percentile returns the q-quantile (0 < q ≤ 1) as a duration; 0 when empty.
func (h *Histogram) Percentile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := time.Duration(bucketValue(i))
			return min(v, time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Summary is a latency distribution in milliseconds, as --json prints it.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Summary returns the histogram's distribution in milliseconds.
func (h *Histogram) Summary() Summary {
	n := h.n.Load()
	if n == 0 {
		return Summary{}
	}
	ms := func(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }
	return Summary{
		Count: n,
		Mean:  round3(float64(h.sum.Load()) / float64(n) / float64(time.Millisecond)),
		P50:   ms(h.Percentile(0.50)),
		P90:   ms(h.Percentile(0.90)),
		P99:   ms(h.Percentile(0.99)),
		Max:   ms(time.Duration(h.max.Load())),
	}
}

// round3 rounds to three decimals (microseconds, for milliseconds).
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
