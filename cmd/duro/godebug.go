package main

import "strings"

// stackShrinkSetting is the runtime setting Duro's process runs with unless
// GODEBUG already names it: gcshrinkstackoff=1 stops the garbage collector
// from halving the stacks of goroutines that use less than a quarter of
// theirs.
//
// Duro's busy goroutines (a connection's, a load generator's, an
// invocation's) block shallow, waiting for the network or the committer,
// and then run deep: each collection (several a second under load) shrank
// their stacks and the next request grew them back, copying the stack and
// adjusting every frame: 4.7 % of the CPU of a `duro bench` open-loop run
// (runtime.newstack in its profile), none with the setting. In 11 runs
// alternated with and without it, the CPU was lower in 8 and the
// checkpoint p99 in 7 (bench/README.md, ninth session). The
// price is that a goroutine keeps the largest stack it has needed: a few
// KB for each of a few hundred connections. The runtime reads GODEBUG
// once, at start-up, and only the names it registers for //go:debug can
// be set in the source, so main re-executes itself with the setting.
const stackShrinkSetting = "gcshrinkstackoff"

// godebugWithStackSetting returns the GODEBUG value to re-execute with,
// and false when the environment already decides the setting (either
// way) and nothing needs to change.
func godebugWithStackSetting(getenv func(string) string) (string, bool) {
	cur := getenv("GODEBUG")
	for _, kv := range strings.Split(cur, ",") {
		if k, _, _ := strings.Cut(strings.TrimSpace(kv), "="); k == stackShrinkSetting {
			return "", false
		}
	}
	if strings.TrimSpace(cur) == "" {
		return stackShrinkSetting + "=1", true
	}
	return cur + "," + stackShrinkSetting + "=1", true
}
