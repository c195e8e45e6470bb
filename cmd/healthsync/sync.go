package main

import (
	"context"
	"flag"
	"strings"

	"healthsync/store"
	hsync "healthsync/sync"
)

// syncCommand is `healthsync sync`.
func syncCommand() *command {
	return &command{
		name:    "sync",
		summary: "one incremental pull from the CRM into the store",
		help: `Pulls every object's changes since its cursor, page by page; each page and
its cursor commit together, so an interrupted sync resumes without loss or
duplicates. A changed mapping is re-applied to stored records without a
download; objects whose stored records lack a newly needed field are pulled
again. Hard deletes are found by comparing ID sets every
HEALTHSYNC_RECONCILE_INTERVAL (or now with --reconcile).

A stop by the API budget or the CRM's daily limit commits what was done and
exits 0; the next run resumes.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			remap := fs.Bool("remap", false, "map every stored raw record again")
			reconcile := fs.Bool("reconcile", false, "compare ID sets with the CRM now to find hard deletes")
			full := fs.String("full", "", "forget the cursor of these comma-separated `objects` and pull them from the start")
			objects := fs.String("objects", "", "sync only these comma-separated `objects` (default: all the mapping names)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("sync", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				opts := hsync.SyncOptions{Remap: *remap, Reconcile: *reconcile, Objects: splitList(*objects)}
				for _, obj := range splitList(*full) {
					if _, ok := a.mapping.Entity(obj); !ok {
						return usagef("sync", "--full %s: not an object the mapping syncs (%s)", obj, strings.Join(a.mapping.Objects(), ", "))
					}
					if err := a.store.InTx(ctx, func(tx *store.Tx) error { return tx.ResetCursor(ctx, a.cfg.Sync.Connection, obj) }); err != nil {
						return err
					}
				}
				show := hsync.Observer{Synced: func(rep *hsync.Report) { printSyncReport(e.stdout, rep) }}
				_, err = a.worker(c, show, a.progressFor(e)).Sync(ctx, opts)
				if hsync.ControlledStop(err) {
					return nil
				}
				return err
			}
		},
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
