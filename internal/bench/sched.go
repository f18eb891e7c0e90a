package bench

import (
	"math"
	"runtime/metrics"
)

// schedLatencyMetric is the Go runtime's distribution of the time
// goroutines spent runnable before they ran: how long work waited for a
// CPU (a P). It grows as the process's CPUs saturate.
const schedLatencyMetric = "/sched/latencies:seconds"

// schedLatencies reads this process's scheduling-latency histogram.
func schedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedLatencyMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// schedLatencySummary summarises, in milliseconds, the scheduling
// latencies recorded between two readings of schedLatencies. Quantiles are
// interpolated within the runtime's buckets (about 1/8 of a power of two
// wide in the range that matters); Max is the upper bound of the highest
// bucket with a count.
func schedLatencySummary(before, after *metrics.Float64Histogram) *Summary {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return nil
	}
	counts := make([]uint64, len(after.Counts))
	var total uint64
	var sum float64
	for i := range counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
		lo, hi := after.Buckets[i], after.Buckets[i+1]
		if math.IsInf(lo, -1) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		sum += float64(counts[i]) * (lo + hi) / 2
	}
	if total == 0 {
		return nil
	}
	quantile := func(q float64) float64 {
		rank := q * float64(total)
		var below float64
		for i, n := range counts {
			if n == 0 {
				continue
			}
			if below+float64(n) >= rank {
				lo, hi := after.Buckets[i], after.Buckets[i+1]
				if math.IsInf(lo, -1) {
					lo = 0
				}
				if math.IsInf(hi, 1) {
					return lo
				}
				return lo + (hi-lo)*(rank-below)/float64(n)
			}
			below += float64(n)
		}
		return 0
	}
	maxBound := 0.0
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			maxBound = after.Buckets[i+1]
			if math.IsInf(maxBound, 1) {
				maxBound = after.Buckets[i]
			}
			break
		}
	}
	ms := func(s float64) float64 { return round3(1000 * s) }
	return &Summary{Count: total, Mean: ms(sum / float64(total)),
		P50: ms(quantile(0.5)), P90: ms(quantile(0.9)), P99: ms(quantile(0.99)), Max: ms(maxBound)}
}
