package sqlite

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// prefetch asks the kernel to read the database file into the page cache
// in the background (posix_fadvise WILLNEED), so that the first
// transactions after a start with a cold cache do not wait on page reads
// one at a time. A file larger than half the memory the kernel reports
// available is left alone: it would only push other files out. It returns
// early once stop is closed (the store closing).
func prefetch(path string, stop <-chan struct{}) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 || fi.Size() > memAvailable()/2 {
		return
	}
	// The kernel reads at most its readahead window per call (a few MB),
	// whatever the length asked for: so ask window by window.
	const chunk = 4 << 20
	for off := int64(0); off < fi.Size(); off += chunk {
		select {
		case <-stop:
			return
		default:
		}
		if unix.Fadvise(int(f.Fd()), off, min(chunk, fi.Size()-off), unix.FADV_WILLNEED) != nil {
			return
		}
	}
}

// memAvailable is MemAvailable from /proc/meminfo, in bytes (0 if unknown).
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
