package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident is the fraction of a file's pages in the page cache.
func resident(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// droppedFile writes a 16 MB file and drops it from the page cache; it
// skips the test if the kernel keeps it cached anyway.
func droppedFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.db")
	data := make([]byte, 16<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := resident(t, path); r > 0.5 {
		t.Skipf("the kernel kept %.0f %% of the file cached after DONTNEED; cannot test here", 100*r)
	}
	return path
}

// prefetch reads a file that was dropped from the page cache back into it.
func TestPrefetchFillsThePageCache(t *testing.T) {
	path := droppedFile(t)
	prefetch(path, make(chan struct{}))
	deadline := time.Now().Add(10 * time.Second)
	for resident(t, path) < 0.9 {
		if time.Now().After(deadline) {
			t.Fatalf("after prefetch only %.0f %% of the file is in the page cache", 100*resident(t, path))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if memAvailable() <= 0 {
		t.Error("memAvailable() found no MemAvailable in /proc/meminfo")
	}
}

// A closed stop channel (the store closing) ends the prefetch before it
// asks for more.
func TestPrefetchStops(t *testing.T) {
	path := droppedFile(t)
	stop := make(chan struct{})
	close(stop)
	prefetch(path, stop)
	time.Sleep(200 * time.Millisecond) // what was asked for would be read by now
	if r := resident(t, path); r > 0.5 {
		t.Errorf("after a stopped prefetch %.0f %% of the file is in the page cache", 100*r)
	}
}
