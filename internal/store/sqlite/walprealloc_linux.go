package sqlite

import (
	"syscall"

	sqlite3 "modernc.org/sqlite/lib"
)

// walPreallocBytes is the size the writer's WAL file is given, with zeros,
// when it is opened smaller: what the WAL reaches under load before the
// committer restarts it (walRestartFrames frames, and half as many again
// written before the checkpointer reports), at PageSize pages.
//
// A WAL file that grows makes every commit's fsync also commit the file's
// new size and blocks to the file system's journal: on the session
// machine, a fresh database's first ~0.4 s under load committed in 0.6–2.7
// ms instead of ~0.3, and its backlog made the run's worst latencies
// (bench/README.md, sixteenth session). Once the WAL restarts it is
// overwritten in place, so only that first pass, after every start (SQLite
// deletes the WAL when the last connection closes), is at stake. Writing
// the zeros (~50 MB) costs ~50 ms at Open.
//
// Zeros are safe past the WAL's last frame: recovery reads frames from the
// start and stops at the first whose salt does not match the header's, as
// it does at the old frames a restart leaves behind.
const walPreallocBytes = walHeaderBytes + (walRestartFrames*3/2)*(PageSize+walFrameHeaderBytes)

// The WAL format's header sizes.
const (
	walHeaderBytes      = 32
	walFrameHeaderBytes = 24
)

// preallocateWAL extends the WAL file pFile, just opened, to
// walPreallocBytes with zeros written after its end, and syncs them. It
// never writes below the file's end, so frames already there (a crashed
// process's, which recovery will read) are kept. A failure (a full disk)
// only leaves the file to grow as it would have.
func preallocateWAL(pFile uintptr) {
	fd := int((*sqlite3.TunixFile)(cPointer(pFile)).Fh)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Size >= walPreallocBytes {
		return
	}
	zeros := make([]byte, 1<<20)
	for off := st.Size; off < walPreallocBytes; {
		n, err := syscall.Pwrite(fd, zeros[:min(int64(len(zeros)), walPreallocBytes-off)], off)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		off += int64(n)
	}
	for syscall.Fdatasync(fd) == syscall.EINTR {
	}
}
