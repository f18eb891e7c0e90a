package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// WAL checkpointing. SQLite's automatic checkpoint runs inside the commit
// that finds the WAL past 1000 pages: that commit, and so the group
// committer and every mutation queued behind it, then also copies the WAL
// into the database file and fsyncs it. Here a background goroutine on a
// connection of its own runs PASSIVE checkpoints instead, which block
// neither the writer nor readers and do the bulk of the copying.
//
// A background checkpoint never catches up with a busy writer, though, and
// SQLite only restarts the WAL from its beginning once a checkpoint has
// copied every frame: under sustained load the WAL would grow without
// bound (a GB a minute at a few thousand commits per second). So when the
// checkpointer sees more than walRestartFrames frames, the committer runs
// one checkpoint itself between two batches; no frame is added meanwhile,
// the background has already copied nearly all of them, and the next
// transaction restarts the WAL. SQLite's own automatic checkpoint stays as
// a backstop, at walAutoCheckpointFrames.
//
// No transaction commits while the committer checkpoints, so the
// background round that reports a long WAL first runs a second, catch-up
// pass: it copies what the writer added during the first (a few ms of
// commits rather than up to walCheckpointEvery's), and the committer's own
// checkpoint is left with the frames of the last millisecond or so, its two
// fsyncs, and little else.
const (
	// walCheckpointEvery is how often the checkpointer runs while commits
	// happen. At thousands of commits per second the WAL grows by a few MB
	// in that time.
	walCheckpointEvery = 100 * time.Millisecond
	// walCheckpointIdle is how often it runs regardless, for the writes
	// that do not go through the group committer (functions, logs).
	walCheckpointIdle = 5 * time.Second
	// walRestartFrames bounds the WAL to about 32 MB (of PageSize pages;
	// 64 MB on a database with 4 KiB pages), plus what is written in one
	// walCheckpointEvery. Each restart holds the committer for a
	// checkpoint of its own (restartWAL); at 16 MB that happened three to
	// four times a second at ~10,000 checkpoints/s.
	walRestartFrames = 32 << 20 / PageSize
	// walAutoCheckpointFrames is SQLite's automatic checkpoint threshold on
	// the writer, in case the checkpointer cannot run.
	walAutoCheckpointFrames = 16 * walRestartFrames
)

// openCheckpointer opens the checkpointer's connection.
func openCheckpointer(ctx context.Context, base string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", base)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// runCheckpointer checkpoints the WAL until stop is closed. A failed
// checkpoint (the database busy past busy_timeout, say) is left to the
// next round.
func (s *Store) runCheckpointer(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(walCheckpointEvery)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if !s.walDirty.Swap(false) && time.Since(last) < walCheckpointIdle {
			continue
		}
		last = time.Now()
		frames, err := s.checkpointWAL()
		if err != nil {
			s.walDirty.Store(true)
			continue
		}
		s.walFrames.Store(int64(frames))
	}
}

// checkpointWAL runs one background round: a PASSIVE checkpoint and, when
// that found the WAL at walRestartFrames or more (the committer will then
// checkpoint to restart it), the catch-up pass. It returns the frames the
// WAL had at the last pass that succeeded; a failed catch-up pass only
// leaves the committer more to copy.
func (s *Store) checkpointWAL() (int, error) {
	pass := func() (frames int, err error) {
		var busy, copied int
		err = s.checkpointDB.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		return frames, err
	}
	first, err := pass()
	if err != nil || first < walRestartFrames {
		return first, err
	}
	frames, err := pass()
	if err != nil {
		return first, nil
	}
	s.catchUps.Add(1)
	return frames, nil
}

// restartWAL runs on the committer, between batches: once the WAL has
// grown past walRestartFrames, it finishes the background checkpoint's work
// so that the next transaction restarts the WAL. An incomplete checkpoint
// (a reader still on an old snapshot) waits for the checkpointer's next
// report rather than being retried at every batch.
func (s *Store) restartWAL() {
	if s.walFrames.Load() < walRestartFrames {
		return
	}
	s.walFrames.Store(0)
	start := time.Now()
	var busy, frames, copied int
	_ = s.writer.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	s.restartNanos.Add(int64(time.Since(start)))
	s.restarts.Add(1)
}
