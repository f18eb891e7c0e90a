package e2e

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// minParallel is the parallelism the package runs with unless -parallel is
// given: the tests spend their time waiting on timers (1-5 s waits,
// retries, callback timeouts) rather than on CPU, so GOMAXPROCS (the
// default) would serialise them needlessly on small machines.
const minParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit && runtime.GOMAXPROCS(0) < minParallel {
		_ = flag.Set("test.parallel", strconv.Itoa(minParallel))
	}
	os.Exit(m.Run())
}
