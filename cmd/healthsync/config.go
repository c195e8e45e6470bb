package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/sethvargo/go-envconfig"
	"golang.org/x/term"

	"healthsync/crm"
	"healthsync/status"
	"healthsync/store"
	hsync "healthsync/sync"
)

// LogConfig controls logging.
type LogConfig struct {
	Format string `env:"HEALTHSYNC_LOG_FORMAT, default=text"`
	Level  string `env:"HEALTHSYNC_LOG_LEVEL, default=info"`
}

// Validate checks the logging settings.
func (c LogConfig) Validate() error {
	switch strings.ToLower(c.Format) {
	case "text", "json":
	default:
		return fmt.Errorf("HEALTHSYNC_LOG_FORMAT=%q: use text or json", c.Format)
	}
	if hclog.LevelFromString(c.Level) == hclog.NoLevel {
		return fmt.Errorf("HEALTHSYNC_LOG_LEVEL=%q: use trace, debug, info, warn or error", c.Level)
	}
	return nil
}

// AppConfig is what the CLI itself reads.
type AppConfig struct {
	// CRM is salesforce or hubspot; the mapping file's crm.system may say it instead.
	CRM string `env:"HEALTHSYNC_CRM"`
	// MappingFile is the RevOps mapping file. The default name is optional:
	// without the file, the built-in defaults for the CRM apply.
	MappingFile string `env:"HEALTHSYNC_MAPPING_FILE, default=healthsync.yaml"`
}

// Config is the whole environment configuration, composed of the
// packages' own Config structs.
type Config struct {
	App       AppConfig
	Log       LogConfig
	Store     store.Config
	Sync      hsync.Config
	Writeback hsync.WritebackConfig
	Status    status.Config
}

// Validate checks every part and names the variable at fault.
func (c Config) Validate() error {
	if c.App.CRM != "" {
		if _, err := crm.ParseSystem(c.App.CRM); err != nil {
			return fmt.Errorf("HEALTHSYNC_CRM: %w", err)
		}
	}
	for _, v := range []interface{ Validate() error }{c.Log, c.Store, c.Sync, c.Writeback, c.Status} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// loadConfig reads the configuration from the environment.
func loadConfig(ctx context.Context, e *env) (Config, error) {
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: e.lookuper}); err != nil {
		return cfg, fmt.Errorf("read configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// newLogger builds the logger: human text (coloured on a terminal) or JSON.
func newLogger(cfg LogConfig, e *env) hclog.Logger {
	opts := &hclog.LoggerOptions{
		Name:       "healthsync",
		Level:      hclog.LevelFromString(cfg.Level),
		Output:     e.stderr,
		JSONFormat: strings.EqualFold(cfg.Format, "json"),
	}
	if f, ok := e.stderr.(*os.File); ok && !opts.JSONFormat && term.IsTerminal(int(f.Fd())) {
		opts.Color = hclog.AutoColor
	}
	return hclog.New(opts)
}

// openStore opens and migrates the configured store.
func openStore(ctx context.Context, cfg Config, log hclog.Logger, opts store.Options) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.Store, opts)
	if err != nil {
		return nil, err
	}
	if k := s.GeneratedKeyFile(); k != "" {
		log.Info("generated a token encryption key file; back it up with the database", "path", k)
	}
	st, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	log.Debug("store ready", "backend", s.Backend(), "where", s.Where(), "schema", st.Current)
	return s, nil
}
