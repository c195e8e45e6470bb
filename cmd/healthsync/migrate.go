package main

import (
	"context"
	"flag"
	"fmt"

	"healthsync/store"
)

// migrateCommand is `healthsync migrate`.
func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "apply store migrations (other commands do it on start)",
		help: `Brings the database named by HEALTHSYNC_DATABASE_URL (default: the SQLite
file in ~/.local/share/healthsync) up to this version's schema. It refuses,
changing nothing, a database migrated by a newer healthsync, one left dirty by
a failed migration, and one holding tables of another program.

After repairing a dirty database by hand, mark the last good version with
--force VERSION and run migrate again.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			status := fs.Bool("status", false, "print the schema version and change nothing")
			force := fs.Int("force", -1, "mark the schema as being at `VERSION` without running migrations (dirty-state recovery)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("migrate", args); err != nil {
					return err
				}
				cfg, err := loadConfig(ctx, e)
				if err != nil {
					return err
				}
				log := newLogger(cfg.Log, e)
				s, err := store.Open(ctx, cfg.Store, store.Options{})
				if err != nil {
					return err
				}
				defer s.Close()
				if k := s.GeneratedKeyFile(); k != "" {
					log.Info("generated a token encryption key file; back it up with the database", "path", k)
				}
				for _, w := range s.Warnings() {
					log.Warn(w)
				}
				if *force >= 0 {
					if err := s.ForceVersion(ctx, *force); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "%s: schema marked as version %d; run `healthsync migrate` next\n", s.Where(), *force)
					return nil
				}
				if *status {
					st, err := s.Status(ctx)
					if err != nil {
						return err
					}
					dirty := ""
					if st.Dirty {
						dirty = " (DIRTY)"
					}
					fmt.Fprintf(e.stdout, "%s (%s): schema version %d%s, this binary carries %d\n", s.Where(), s.Backend(), st.Current, dirty, st.Latest)
					return nil
				}
				before, err := s.Status(ctx)
				if err != nil {
					return err
				}
				after, err := s.Migrate(ctx)
				if err != nil {
					return err
				}
				if before.Current == after.Current {
					fmt.Fprintf(e.stdout, "%s (%s): schema already at version %d, nothing to do\n", s.Where(), s.Backend(), after.Current)
					return nil
				}
				fmt.Fprintf(e.stdout, "%s (%s): migrated schema from version %d to %d\n", s.Where(), s.Backend(), before.Current, after.Current)
				return nil
			}
		},
	}
}
