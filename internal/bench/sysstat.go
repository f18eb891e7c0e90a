package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times. It is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procDir names a process's /proc directory; pid 0 means this process.
func procDir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(pid)
}

// processCPU returns the user+system CPU time a process has used.
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return selfCPU()
	}
	path := procDir(pid) + "/stat"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	// The command name (field 2) may contain spaces; fields after it are
	// space-separated, starting with field 3 (state).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse %s: no command name", path)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parse %s: %d fields", path, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse %s: utime %q stime %q", path, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// processMemory returns a process's resident set size and its peak
// (VmRSS and VmHWM of /proc/<pid>/status), in bytes.
func processMemory(pid int) (rss, peak int64, err error) {
	path := procDir(pid) + "/status"
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		kb, perr := strconv.ParseInt(fields[0], 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("parse %s %s: %w", path, key, perr)
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return rss, peak, nil
}

// loadAverage returns the 1-minute load average, or -1 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// kernelRelease returns uname -r, or "" if unknown.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Machine describes where a run happened.
type Machine struct {
	CPUs       int     `json:"cpus"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	CPUModel   string  `json:"cpu_model,omitempty"`
	Kernel     string  `json:"kernel,omitempty"`
	GoVersion  string  `json:"go_version"`
	LoadStart  float64 `json:"loadavg_1m_start"`
	LoadEnd    float64 `json:"loadavg_1m_end"`
}

func machineInfo() Machine {
	return Machine{
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel(),
		Kernel: kernelRelease(), GoVersion: runtime.Version(), LoadStart: loadAverage(),
	}
}

// fsyncProbeBlock is the size of each write of the fsync probe: one page,
// about what a small group commit appends to SQLite's WAL.
const fsyncProbeBlock = 4096

// FsyncRate measures the raw durable-write rate of dir's filesystem: it
// overwrites one 4 KiB block of a scratch file and fdatasyncs it, one at a
// time, for about d, and returns the syncs per second.
func FsyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, ".duro-fsync-probe-*")
	if err != nil {
		return 0, fmt.Errorf("fsync probe in %s: %w", dir, err)
	}
	name := f.Name()
	defer os.Remove(name)
	defer f.Close()
	const span = 64 // blocks: the writes cycle through 256 KiB, like a WAL
	block := make([]byte, fsyncProbeBlock)
	// Allocate the blocks first, so that the timed loop measures overwrite
	// plus data sync, not file growth.
	for i := range span {
		if _, err := f.WriteAt(block, int64(i)*fsyncProbeBlock); err != nil {
			return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(name), err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(name), err)
	}
	start := time.Now()
	n := 0
	for time.Since(start) < d || n == 0 {
		block[0] = byte(n)
		if _, err := f.WriteAt(block, int64(n%span)*fsyncProbeBlock); err != nil {
			return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(name), err)
		}
		if err := dataSync(f); err != nil {
			return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(name), err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
