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
// latencies recorded between two readings of schedLatencies, as
// phaseSummary does a scraped histogram: quantiles interpolated within the
// runtime's buckets (about an eighth of a power of two wide where it
// matters), Max the upper bound of the highest bucket with a count. The
// runtime keeps no sum, so the mean takes each bucket's midpoint.
func schedLatencySummary(before, after *metrics.Float64Histogram) *Summary {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return nil
	}
	var h promHistogram
	for i, n := range after.Counts {
		d := float64(n - before.Counts[i])
		lo, hi := max(after.Buckets[i], 0), after.Buckets[i+1]
		h.count += d
		if math.IsInf(hi, 1) {
			h.sum += d * lo // counted, but past the last bound
			continue
		}
		h.sum += d * (lo + hi) / 2
		h.bounds, h.counts = append(h.bounds, hi), append(h.counts, h.count)
	}
	if h.count == 0 {
		return nil
	}
	s := phaseSummary(h)
	return &s
}
