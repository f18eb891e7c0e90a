package sqlite

import "github.com/duro-run/duro/internal/store"

// rowCacheSize bounds the committer's row cache: enough for the executions
// that are checkpointing at once, at about 60 bytes an entry, plus the
// columns of the executions with an invocation in flight.
const rowCacheSize = 1 << 16

// rowCache remembers, per execution ID, what the committer last wrote to
// the execution's row: its pk, the revision it set and the columns other
// than the data. A checkpoint then updates its execution by pk instead of
// first finding it by ID, and, when its columns are those the row got at
// the revision it read, sets the data and revision alone
// (updateExecutionOnlyData) instead of comparing every column in SQL. The
// columns are kept only while the execution holds a lease (an invocation
// in flight, whose checkpoints change nothing else); a suspended
// execution's next write takes a lease, which changes them anyway, so its
// entry keeps the pk alone. Only the committer goroutine uses the cache,
// so it has no lock.
//
// An entry may describe a write that was rolled back, or a row deleted
// since (and created again under the same ID). Neither can make a wrong
// update: every update matches the pk, the ID and the revision; a revision
// is set by exactly one committed write; a rolled-back write's revision is
// one that no reader has seen, so no mutation names it until a committed
// write sets it, and that write replaces the entry, as a create does. A
// stale entry costs a look-up or a fuller update, never a wrong row.
type rowCache struct {
	m map[string]cachedRow
}

// cachedRow is what the committer last wrote to one execution row.
type cachedRow struct {
	pk       int64
	revision int64       // the revision that write set
	cols     *rowColumns // nil when the write left no lease
}

// rowColumns are an execution row's columns other than its ID, revision
// and data.
type rowColumns struct {
	arn, functionName, functionVersion, name, status, leaseOwner string
	startNs, endNs, leaseUntilNs                                 int64
}

func columnsOf(e *store.ExecutionRow) rowColumns {
	return rowColumns{
		arn: e.ARN, functionName: e.FunctionName, functionVersion: e.FunctionVersion, name: e.Name,
		status: e.Status, leaseOwner: e.LeaseOwner,
		startNs: toNanos(e.StartTime), endNs: toNanos(e.EndTime), leaseUntilNs: toNanos(e.LeaseUntil),
	}
}

func newRowCache() *rowCache {
	return &rowCache{m: make(map[string]cachedRow)}
}

func (c *rowCache) get(id string) (cachedRow, bool) {
	r, ok := c.m[id]
	return r, ok
}

// put records the row e's mutation wrote (revision e.Revision+1) under pk,
// or forgets it once e has finished: a finished execution is rarely
// written again.
func (c *rowCache) put(e *store.ExecutionRow, pk int64) {
	if !e.EndTime.IsZero() {
		delete(c.m, e.ID)
		return
	}
	old, ok := c.m[e.ID]
	if !ok && len(c.m) >= rowCacheSize {
		for id := range c.m { // evict an arbitrary entry
			delete(c.m, id)
			break
		}
	}
	r := cachedRow{pk: pk, revision: e.Revision + 1}
	if e.LeaseOwner != "" {
		// Every checkpoint of an invocation comes here: the entry's
		// columns are rewritten in place rather than allocated anew.
		r.cols = old.cols
		if r.cols == nil {
			r.cols = new(rowColumns)
		}
		*r.cols = columnsOf(e)
	}
	c.m[e.ID] = r
}

func (c *rowCache) drop(id string) {
	delete(c.m, id)
}
