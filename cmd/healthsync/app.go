package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hashicorp/go-hclog"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
)

// app is what most commands share: configuration, logger, store, mapping.
type app struct {
	cfg     Config
	log     hclog.Logger
	store   *store.Store
	mapping *mapping.Mapping
}

func (a *app) Close() {
	if a.store != nil {
		a.store.Close()
	}
}

// openApp loads configuration and mapping and opens the store. shared
// opens a SQLite store without the single-process lock (read-only use).
func openApp(ctx context.Context, e *env, shared bool) (*app, error) {
	cfg, err := loadConfig(ctx, e)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: newLogger(cfg.Log, e)}
	if a.mapping, err = loadMapping(cfg.App); err != nil {
		return nil, err
	}
	if a.store, err = openStore(ctx, cfg, a.log, store.Options{Shared: shared}); err != nil {
		return nil, err
	}
	return a, nil
}

// openAppCRM opens the app and connects to its CRM.
func openAppCRM(ctx context.Context, e *env, shared bool) (*app, crmClient, error) {
	a, err := openApp(ctx, e, shared)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.openCRM(ctx, e)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, c, nil
}

// loadMapping reads the mapping file, or the defaults when the default
// file name does not exist.
func loadMapping(cfg AppConfig) (*mapping.Mapping, error) {
	var sys crm.System
	if cfg.CRM != "" {
		sys, _ = crm.ParseSystem(cfg.CRM)
	}
	_, err := os.Stat(cfg.MappingFile)
	switch {
	case err == nil:
		m, err := mapping.Load(cfg.MappingFile, mapping.Options{System: sys})
		if err != nil {
			return nil, fmt.Errorf("mapping file (HEALTHSYNC_MAPPING_FILE):\n%w", err)
		}
		return m, nil
	case errors.Is(err, fs.ErrNotExist) && cfg.MappingFile == "healthsync.yaml":
		if sys == "" {
			return nil, errors.New("no CRM chosen: set HEALTHSYNC_CRM=salesforce or hubspot, or crm.system in a mapping file (HEALTHSYNC_MAPPING_FILE, default ./healthsync.yaml)")
		}
		return mapping.New(sys, nil)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("mapping file %s (HEALTHSYNC_MAPPING_FILE): %w: fix the path, or unset HEALTHSYNC_MAPPING_FILE to use ./healthsync.yaml or the built-in defaults", cfg.MappingFile, err)
	default:
		return nil, fmt.Errorf("mapping file %s (HEALTHSYNC_MAPPING_FILE): %w", cfg.MappingFile, err)
	}
}

// ownerNames maps the CRM's users to their names, so people read names,
// not IDs; empty when the users cannot be read (IDs are shown then).
func (a *app) ownerNames(ctx context.Context) map[crm.UserID]string {
	users, err := a.store.Users(ctx, a.cfg.Sync.Connection)
	if err != nil {
		a.log.Warn("cannot read user names; showing IDs", "error", err)
		return nil
	}
	out := make(map[crm.UserID]string, len(users))
	for id, u := range users {
		out[id] = u.Name
	}
	return out
}
