package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/store"
	"healthsync/store/storetest"
)

// The store's part of the bad-input corpus: a database path that cannot
// hold a database, files others can read, a lock file deleted under a
// running worker, a full disk. Each row runs the real binary and checks
// the exit code, the words of the message and that the store kept what
// it held.

// TestBadInputStore runs the store rows against one build of the binary.
func TestBadInputStore(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("database_url_directory", func(t *testing.T) { t.Parallel(); badDatabaseDirectory(t, bin) })
	t.Run("database_readable_by_others", func(t *testing.T) { t.Parallel(); badWideDatabase(t, bin) })
	t.Run("lock_file_deleted_under_worker", func(t *testing.T) { t.Parallel(); badLockFileDeleted(t, bin) })
	t.Run("disk_full", func(t *testing.T) { t.Parallel(); badDiskFull(t, bin) })
	t.Run("file_size_limit", func(t *testing.T) { t.Parallel(); badFileSizeLimit(t, bin) })
}

// badDatabaseDirectory: a directory given as the database says it is one
// and what to give instead (not "unable to open database file (14)"),
// and puts nothing in it.
func badDatabaseDirectory(t *testing.T, bin string) {
	for _, form := range []string{"path", "url"} {
		t.Run(form, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			url := data
			if form == "url" {
				url = "sqlite://" + data
			}
			out := runBad(t, bin, dir, []string{"HEALTHSYNC_DATABASE_URL=" + url}, "migrate")
			out.expect(t, exitFailure, []string{"HEALTHSYNC_DATABASE_URL", data + ", which is a directory", filepath.Join(data, "healthsync.db")})
			if entries, _ := os.ReadDir(data); len(entries) > 0 {
				t.Errorf("migrate put %s in the directory", entries[0].Name())
			}
		})
	}
}

// badWideDatabase: a database file others can read (an older healthsync
// created it 0644) is reported by check and migrate with the chmod that
// fixes it, as a warning: both succeed and change neither the file's mode
// nor its content.
func badWideDatabase(t *testing.T, bin string) {
	r := newCRMRig(t, bin, crm.Salesforce)
	r.run(t, "install").expect(t, exitOK, nil) // so that check passes
	if err := os.Chmod(r.db, 0o644); err != nil {
		t.Fatal(err)
	}
	before := r.state(t)
	for _, cmd := range []string{"migrate", "check"} {
		out := r.run(t, cmd)
		out.expect(t, exitOK, []string{"WARN", r.db + " can be read by other users", "mode 0644", "chmod 600 " + r.db})
	}
	if fi, err := os.Stat(r.db); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the database's mode was changed behind the operator's back: %v, %v", fi.Mode(), err)
	}
	before.assertKept(t, r.state(t), false)
}

// startBad starts the binary as runBad runs it, without waiting; done
// gets the result of Wait.
func startBad(t *testing.T, bin, dir string, env []string, args ...string) (done <-chan error, out *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	out = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return ch, out
}

// holdFirst is a fault that holds the first answer it matches until
// release is closed and passes the later ones at once.
func holdFirst(match string) (*fault, chan struct{}) {
	release := make(chan struct{})
	var once gosync.Once
	return &fault{match: match, rewrite: func(b []byte) []byte {
		first := false
		once.Do(func() { first = true })
		if first {
			<-release
		}
		return b
	}}, release
}

// badLockFileDeleted: while a sync holds the SQLite store (held mid-pull
// by the CRM's slow answer), someone deletes the .lock file beside the
// database. A second sync is still refused, saying another healthsync
// holds the database, and records nothing; the first then finishes.
func badLockFileDeleted(t *testing.T, bin string) {
	r := newCRMRig(t, bin, crm.Salesforce)
	runsBefore := countRuns(t, r.db)
	r.touch(t, 3)
	hold, release := holdFirst(`POST /services/data/v[0-9.]+/composite\?|/queryAll\?|/query\?`)
	r.proxy.set(hold)
	holder, holderOut := startBad(t, bin, r.dir, r.env, "sync")
	deadline := time.After(time.Minute)
	for r.proxy.fired() == 0 {
		select {
		case err := <-holder:
			t.Fatalf("the holder ended (%v) before its pull reached the CRM:\n%s", err, holderOut)
		case <-deadline:
			t.Fatalf("the holder's pull never reached the CRM:\n%s", holderOut)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := os.Remove(r.db + ".lock"); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	second := r.run(t, "sync")
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("the holder failed: %v\n%s", err, holderOut)
	}
	second.expect(t, exitFailure, []string{r.db + " is a single-process database and another healthsync holds it", "stop the other process", "Postgres"})
	if got := countRuns(t, r.db); got != runsBefore+1 {
		t.Errorf("runs recorded: %d before, %d after; want only the holder's", runsBefore, got)
	}
}

func countRuns(t *testing.T, db string) int {
	t.Helper()
	s, err := store.Open(t.Context(), store.Config{DatabaseURL: db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(t.Context(), "default", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

// canMountTmpfs reports whether this machine lets an unprivileged user
// namespace mount a tmpfs (unshare -rm).
func canMountTmpfs(t *testing.T) bool {
	t.Helper()
	mnt := t.TempDir()
	return exec.Command("unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs "$0"`, mnt).Run() == nil
}

// badDiskFull: with the database on a small tmpfs filled up by another
// file, a sync says the disk holding the database is full, names the
// file and says nothing committed was lost ("disk I/O error (778)"
// before); the store holds what it held, and once space is freed the next
// sync succeeds. The tmpfs lives in a user and mount namespace (unshare),
// so the whole story runs in one shell there; the test skips where such
// namespaces are not allowed (the mapping of the result codes is tested
// in package store either way).
func badDiskFull(t *testing.T, bin string) {
	if !canMountTmpfs(t) {
		t.Skip("disk_full SKIPPED: this machine does not let unshare -rm mount a tmpfs")
	}
	r := newCRMRig(t, bin, crm.Salesforce)
	mnt := filepath.Join(r.dir, "mnt")
	outDir := filepath.Join(r.dir, "out")
	for _, d := range []string{mnt, filepath.Join(outDir, "after"), filepath.Join(outDir, "final")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r.touch(t, 3)
	db := filepath.Join(mnt, "hs.db")
	// sync2 meets a disk with no byte left (it cannot even grow SQLite's
	// -shm file), sync3 one with 64 KiB left (it fails writing pages).
	script := `set -u
mount -t tmpfs -o size=16m tmpfs "$MNT" || exit 90
"$BIN" sync >"$OUT/sync1.out" 2>&1 || exit 91
cp "$MNT/hs.db" "$OUT/before.db" || exit 92
dd if=/dev/zero of="$MNT/spare" bs=64k count=1 >/dev/null 2>&1 || exit 93
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
"$BIN" sync >"$OUT/sync2.out" 2>&1; echo $? >"$OUT/sync2.code"
rm "$MNT/spare"
"$BIN" sync --full Account >"$OUT/sync3.out" 2>&1; echo $? >"$OUT/sync3.code"
rm "$MNT/fill"
cp "$MNT"/hs.db "$MNT"/hs.db-* "$OUT/after/" 2>/dev/null
"$BIN" sync >"$OUT/sync4.out" 2>&1; echo $? >"$OUT/sync4.code"
cp "$MNT"/hs.db "$MNT"/hs.db-* "$OUT/final/" 2>/dev/null
exit 0
`
	cmd := exec.Command("unshare", "-rm", "sh", "-c", script)
	cmd.Dir = r.dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir, "MNT=" + mnt, "OUT=" + outDir, "BIN=" + bin},
		append(r.env, "HEALTHSYNC_DATABASE_URL="+db)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		sync1, _ := os.ReadFile(filepath.Join(outDir, "sync1.out"))
		t.Fatalf("the tmpfs story stopped: %v\n%s\nfirst sync:\n%s", err, out, sync1)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, step := range []string{"sync2", "sync3"} {
		code, _ := strconv.Atoi(strings.TrimSpace(read(step + ".code")))
		t.Logf("%s on the full disk (exit %d):\n%s", step, code, read(step+".out"))
		outcome{args: []string{step, "(disk full)"}, code: code, stderr: read(step + ".out")}.
			expect(t, exitFailure, []string{"the disk holding " + db + " is full", "Nothing committed was lost", "the next run resumes"})
	}
	before := stateOf(t, filepath.Join(outDir, "before.db"))
	// sync3 reset the accounts' cursor on purpose (--full) before it failed.
	before.assertKept(t, stateOf(t, filepath.Join(outDir, "after", "hs.db")), true)
	code, _ := strconv.Atoi(strings.TrimSpace(read("sync4.code")))
	outcome{args: []string{"sync", "(space freed)"}, code: code, stderr: read("sync4.out")}.expect(t, exitOK, nil)
	// sync3 could not record its end on the full disk; sync4 ended it.
	final, err := store.Open(t.Context(), store.Config{DatabaseURL: filepath.Join(outDir, "final", "hs.db")}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	runs, err := final.Runs(t.Context(), "default", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == store.RunRunning {
			t.Errorf("run %d (started %v) is still running after the disk was freed and a sync ran", r.ID, r.StartedAt)
		}
	}
}

// badFileSizeLimit: a write the kernel refuses with space left on the disk
// (here a file-size limit, as a quota would) ends the sync with a message
// that names the file and the likely causes (a real "disk I/O error
// (778)"), and the store keeps what it held.
func badFileSizeLimit(t *testing.T, bin string) {
	r := newCRMRig(t, bin, crm.Salesforce)
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("file_size_limit SKIPPED: needs prlimit (util-linux)")
	}
	before := r.state(t)
	// The -shm file takes 32 KiB; the write-ahead log of a full pull of
	// the accounts needs more than 48 KiB.
	cmd := []string{"prlimit", "--fsize=49152", "--", r.bin, "sync", "--full", "Account"}
	out := runBad(t, cmd[0], r.dir, r.env, cmd[1:]...)
	t.Logf("sync over the file-size limit (exit %d):\n%s%s", out.code, out.stdout, out.stderr)
	out.expect(t, exitFailure, []string{"reading or writing " + r.db + " failed", "disk I/O error", "file-size limit", "Nothing committed was lost"})
	before.assertKept(t, r.state(t), true)
	r.run(t, "sync").expect(t, exitOK, nil)
}

// stateOf reads the state of a SQLite store file.
func stateOf(t *testing.T, db string) storeState {
	t.Helper()
	return (&crmRig{db: db}).state(t)
}

// TestCrashRunEndsInterrupted kills `healthsync sync` with SIGKILL while
// it waits for a CRM answer mid-pull, then runs it again: the killed run,
// left "running" with the time of its last committed page, is marked
// interrupted by the next run that holds the store (SQLite) or the lease
// (Postgres, once the dead holder's lease expired), in the runs and in
// bi_sync_runs. On SQLite, the files the killed process left (database,
// -wal, -shm, generated key) are 0600 though it ran under umask 022.
func TestCrashRunEndsInterrupted(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			org, err := gen.Generate(gen.Options{Seed: 12, Accounts: 60, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			em := emusalesforce.New(emusalesforce.Options{KeyFile: filepath.Join(t.TempDir(), "jwt.key")})
			if err := em.LoadOrg(org); err != nil {
				t.Fatal(err)
			}
			gate := &queryGate{object: "Contact", release: make(chan struct{}), held: make(chan struct{})}
			r := newCrashRig(t, crm.Salesforce, backend, sfUnderTest{em}, gate.wrap)
			t.Cleanup(gate.open)

			cmd := exec.Command("sh", "-c", `umask 022 && exec "$0" sync`, r.bin)
			cmd.Env = append(os.Environ(), r.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-gate.held:
			case err := <-done:
				t.Fatalf("sync ended (%v) before it asked for contacts:\n%s", err, out.String())
			case <-time.After(time.Minute):
				t.Fatalf("sync never asked for contacts:\n%s", out.String())
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-done
			gate.open()

			st, err := store.Open(context.Background(), store.Config{DatabaseURL: r.db}, store.Options{Shared: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			runs, err := st.Runs(context.Background(), "default", 10)
			if err != nil || len(runs) != 1 {
				t.Fatalf("runs after the kill = %+v, %v; want the killed one", runs, err)
			}
			dead := runs[0]
			if dead.Status != store.RunRunning || dead.FinishedAt != nil || !dead.SeenAt.After(dead.StartedAt) {
				t.Fatalf("killed run = %+v, want running, last seen at its committed pages (after it started)", dead)
			}
			if backend == "sqlite" {
				for _, p := range []string{r.db, r.db + "-wal", r.db + "-shm", filepath.Join(filepath.Dir(r.db), "healthsync.key")} {
					fi, err := os.Stat(p)
					if err != nil {
						t.Fatalf("%s after the kill: %v", filepath.Base(p), err)
					}
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("%s is mode %04o under umask 022, want 0600: it holds CRM records or the key", filepath.Base(p), fi.Mode().Perm())
					}
				}
			} else {
				// The dead holder's lease runs out (its TTL, on the
				// database's clock).
				if _, err := storetest.RawDB(t, store.Config{DatabaseURL: r.db}).Exec("UPDATE leases SET expires_at = expires_at - 3600000 WHERE connection = 'default'"); err != nil {
					t.Fatal(err)
				}
			}

			runBinary(t, r.bin, r.env, "sync")
			runs, err = st.Runs(context.Background(), "default", 10)
			if err != nil || len(runs) != 2 {
				t.Fatalf("runs after the next sync = %+v, %v", runs, err)
			}
			if runs[0].Status != store.RunOK {
				t.Errorf("next sync = %s, want ok", runs[0].Status)
			}
			got := runs[1]
			if got.ID != dead.ID || got.Status != store.RunInterrupted || got.FinishedAt == nil || !got.FinishedAt.Equal(dead.SeenAt) ||
				!strings.Contains(got.StopReason, "process ended without recording how the run ended") {
				t.Errorf("killed run after the next sync = %+v, want interrupted, ended when last seen (%v)", got, dead.SeenAt)
			}
			var status string
			var finished, lastSeen any
			if err := storetest.RawDB(t, store.Config{DatabaseURL: r.db}).QueryRow("SELECT status, finished_at, last_seen_at FROM bi_sync_runs WHERE run_id = "+strconv.FormatInt(dead.ID, 10)).
				Scan(&status, &finished, &lastSeen); err != nil {
				t.Fatal(err)
			}
			if status != store.RunInterrupted || finished == nil || lastSeen == nil {
				t.Errorf("bi_sync_runs row of the killed run: status %q, finished_at %v, last_seen_at %v; want interrupted with both times", status, finished, lastSeen)
			}
		})
	}
}

// queryGate holds the first query for object, and every request after it,
// until open is called, so a test can kill the binary mid-pull with the
// objects before it committed.
type queryGate struct {
	object   string
	release  chan struct{}
	held     chan struct{}
	heldOnce gosync.Once
	openOnce gosync.Once
}

func (g *queryGate) open() { g.openOnce.Do(func() { close(g.release) }) }

func (g *queryGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		what := unescape(r.URL.RawQuery) + " " + string(body)
		if strings.Contains(what, "FROM "+g.object+" ") || strings.Contains(what, "FROM "+g.object+"\"") {
			g.heldOnce.Do(func() { close(g.held) })
		}
		select {
		case <-g.held:
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		default:
		}
		next.ServeHTTP(w, r)
	})
}
