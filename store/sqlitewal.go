package store

import (
	"context"
	"database/sql"
	stdsync "sync"
	"sync/atomic"
	"time"
)

// SQLite settings, applied to every connection of the pool (modernc.org/sqlite
// runs each _pragma of the DSN when it opens a connection). Chosen for a
// sync that writes pages of 2,000 records, one transaction each, into a
// database that grows to a few hundred MiB at 10,000 accounts:
//
//   - page_size=16384, for a new file only (an existing one keeps its
//     size): a page commit of 2,000 records appends a quarter of the WAL
//     frames, each a write of its own, and splits a quarter of the B-tree
//     pages. A 10,000-account Salesforce full sync took 9.47 s (11.8 s of
//     CPU) against 11.30 s (14.2 s) with SQLite's 4 KiB, medians of 3.
//     The journal mode is set with the driver's _journal_mode key, which
//     it applies after the _pragma list: WAL on a new file fixes its page
//     size, and the driver runs the _pragma list sorted by name, so
//     journal_mode(WAL) would come before page_size.
//   - journal_mode=WAL, synchronous=NORMAL: readers do not block the writer,
//     and a commit appends to the WAL without an fsync (a power loss may
//     drop the last commits, never corrupt the file; a crash of the process
//     loses nothing committed).
//   - cache_size: SQLite's 2 MiB on every connection, and 8 MiB
//     (writerCacheSize) on a connection once it has run a write
//     transaction (InTx sets it), so the B-tree pages a page commit reads
//     (the primary-key lookups of the records it replaces, the indexes it
//     updates) stay in memory. A full sync of 2,000 accounts read 71,000
//     pages from the file with 2 MiB and 30,000 with 8, 16 or 64 MiB
//     (strace; the rest are checkpoints reading the WAL back); a larger
//     cache bought no more. Readers keep the default: scoring streams
//     accounts, contacts, opportunities and activities on as many
//     connections at once, and 8 MiB each doubled its resident set.
//   - mmap_size is left at 0: memory-mapped reads would save a copy per
//     page read, but an I/O error on a mapped page kills the process
//     (SIGBUS) instead of failing the statement, which the store reports
//     with its fix (a full disk, diskerr.go); and the mapped pages count in
//     the process's resident set. With the cache above, reads are few.
//   - temp_store=FILE: statement journals, sorts and temporary B-trees go
//     to temporary files (in $SQLITE_TMPDIR, $TMPDIR or /tmp), which the
//     OS keeps in its page cache. A statement that changes several rows
//     keeps a statement journal (the original of each page it changes, so
//     the statement can be undone alone); in memory SQLite writes it 1 KiB
//     chunk by chunk, each a malloc: a 1,024-row upsert ran 1.8× slower
//     (20 vs 35–44 ms, 800-byte rows), and with MEMORY the journal was
//     231 s of a 100,000-account full sync's 516 s of CPU. (The batches
//     now write one row per statement, which needs no journal: maxRows.)
//   - wal_autocheckpoint=0: no checkpoint inside a commit. By default the
//     commit that takes the WAL past 1,000 pages copies the WAL into the
//     database file and fsyncs it before returning, which during a sync was
//     nearly every page's commit. The store's checkpointer (below) does it
//     on its own connection after the commits instead, while the caller
//     goes on: after every checkpointEvery commits, and a moment after the
//     last commit of a burst.
//   - journal_size_limit=67108864: a WAL that was reset is truncated back to
//     64 MiB, so its file does not keep the size of its largest burst.
const sqliteParams = "?_pragma=page_size(16384)&_pragma=busy_timeout(10000)&_journal_mode=WAL&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
	"&_pragma=temp_store(FILE)" +
	"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate"

// writerCacheSize is the page cache of a connection that writes (see
// sqliteParams).
const writerCacheSize = "PRAGMA cache_size = -8192"

// sqliteDSN is the modernc.org/sqlite data source name of the database file
// at path with the store's settings.
func sqliteDSN(path string) string { return "file:" + sqliteURIPath(path) + sqliteParams }

// walForceBytes is the WAL length beyond which the committer checkpoints
// itself. The checkpointer's passive checkpoints run while the writer
// commits again, so each ends one transaction short of the WAL's end; SQLite starts the WAL from its
// beginning again only when a commit finds it wholly checkpointed, so a
// writer that commits without pause (a sync whose next page is already
// decoded) would grow it without bound. Past this length the committing
// goroutine runs the passive checkpoint itself, after its commit and
// before its next transaction: it copies every frame no reader still
// needs and lets the next commit start the WAL again.
//
// It is PASSIVE, never RESTART or FULL: those wait for every reader to
// leave the WAL and block new writers meanwhile, and the store's own
// readers (scoring streams the accounts while it commits their scores)
// leave only when the writer goes on, so a 100,000-account score waited
// out the busy timeout at every commit. While a reader holds an old
// snapshot the WAL grows, as it does under SQLite's own checkpoints.
var walForceBytes int64 = 64 << 20

// checkpointEvery is how many commits the checkpointer lets pass before it
// copies the WAL into the database file. A checkpoint copies the newest
// version of every page in the WAL, and a sync's commits rewrite the same
// pages (the B-trees' inner pages, the leaves records are appended to):
// after every commit, a 10,000-account Salesforce sync spent 2 s of its
// 19 s of CPU copying those pages again and again; after every eighth,
// 15.3 s in all, and 13.4 s against 15.7 s of wall time. At a sync's page of
// 2,000 records eight commits are 10–20 MiB of WAL, well inside
// walForceBytes.
const checkpointEvery = 8

// checkpointIdle is how long after a commit with no other one the
// checkpointer copies what the last commits left in the WAL, so the WAL
// does not wait for the next burst of writes (or the store's close).
const checkpointIdle = time.Second

// checkpointer copies the WAL into the database file after commits, on its
// own goroutine and connection, so no commit waits for a checkpoint: after
// every checkpointEvery commits, and checkpointIdle after a commit that
// no other followed. Kicks that arrive while it works are merged into one.
// A crash at any moment is safe: SQLite replays a WAL that was not
// checkpointed when the file is next opened.
type checkpointer struct {
	db      *sql.DB
	kicks   chan struct{}
	cancel  context.CancelFunc
	wg      stdsync.WaitGroup
	commits atomic.Int64 // commits since the store opened
	frames  atomic.Int64 // the WAL length the last checkpoint saw, in pages
	page    int64        // the database's page size, in bytes
	runs    atomic.Int64 // passive checkpoints run, for tests
	forced  atomic.Int64 // checkpoints run by committers past walForceBytes, for tests
}

// startCheckpointer starts the checkpointer of db, whose pages are page
// bytes long.
func startCheckpointer(db *sql.DB, page int64) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, kicks: make(chan struct{}, 1), cancel: cancel, page: page}
	c.wg.Add(1)
	go c.loop(ctx)
	return c
}

// afterCommit is called by a goroutine whose write transaction committed:
// it bounds the WAL (walForceBytes) and asks for a passive checkpoint
// without waiting for it. A nil checkpointer (Postgres) does nothing.
func (c *checkpointer) afterCommit(ctx context.Context) {
	if c == nil {
		return
	}
	if c.frames.Load()*c.page > walForceBytes {
		var busy, frames, done int
		err := c.db.QueryRowContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		c.forced.Add(1)
		if err == nil && done == frames {
			c.frames.Store(0) // wholly copied: the next commit starts the WAL again
		}
	}
	if c.commits.Add(1)%checkpointEvery != 0 {
		return // the loop's idle timer catches the end of a burst
	}
	select {
	case c.kicks <- struct{}{}:
	default: // one is pending already
	}
}

// stop ends the goroutine; a checkpoint under way finishes first. The
// last connection's close checkpoints what is left.
func (c *checkpointer) stop() {
	if c == nil {
		return
	}
	c.cancel()
	c.wg.Wait()
}

func (c *checkpointer) loop(ctx context.Context) {
	defer c.wg.Done()
	idle := time.NewTicker(checkpointIdle)
	defer idle.Stop()
	// atCheckpoint and atTick are the commit counts at the last checkpoint
	// and the last tick: a tick that finds commits since the last
	// checkpoint but none since the tick before checkpoints them.
	var atCheckpoint, atTick int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kicks:
		case <-idle.C:
			n := c.commits.Load()
			quiet := n == atTick
			atTick = n
			if n == atCheckpoint || !quiet {
				continue
			}
		}
		atCheckpoint = c.commits.Load()
		c.checkpoint(ctx)
	}
}

// checkpoint runs a passive checkpoint and notes the WAL's length. Errors
// are not reported: a checkpoint that fails (the database busy past
// busy_timeout, a full disk) leaves the WAL as it was, still readable and
// recovered on open, and the next commit tries again; a full disk is
// reported by the commit.
func (c *checkpointer) checkpoint(ctx context.Context) {
	var busy, frames, done int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		return
	}
	c.frames.Store(int64(frames))
	c.runs.Add(1)
}

func (c *checkpointer) counts() (runs, forced int) {
	return int(c.runs.Load()), int(c.forced.Load())
}
