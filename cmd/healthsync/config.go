package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
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
	if err := processEnv(ctx, &cfg, e.lookuper); err != nil {
		return cfg, fmt.Errorf("read configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// processEnv fills target from the environment. go-envconfig names a
// value it cannot parse by its Go field path (Sync: ReconcileEvery: …);
// the error returned here names the variable and the form it wants.
func processEnv(ctx context.Context, target any, l envconfig.Lookuper) error {
	var key, val string
	remember := envconfig.MutatorFunc(func(_ context.Context, k, _, orig, cur string) (string, bool, error) {
		key, val = k, orig
		return cur, false, nil
	})
	err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: target, Lookuper: l, Mutators: []envconfig.Mutator{remember}})
	if err != nil && key != "" {
		// The variable processed last is the one that failed to parse.
		return envValueError(key, val, err)
	}
	if err != nil {
		return err
	}
	return checkFinite(reflect.ValueOf(target), l)
}

// checkFinite refuses NaN and ±Inf in every float setting of target.
// strconv.ParseFloat accepts "NaN" and "Inf", and every comparison with
// NaN is false, so a range check such as "at most 1" lets NaN through
// and a guard built on it switches off. One check here covers the
// settings of every package, present and future.
func checkFinite(v reflect.Value, l envconfig.Lookuper) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		switch fv.Kind() {
		case reflect.Struct, reflect.Pointer:
			if err := checkFinite(fv, l); err != nil {
				return err
			}
		case reflect.Float32, reflect.Float64:
			x := fv.Float()
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("env"), ",")
			name = strings.TrimSpace(name)
			raw, _ := l.Lookup(name)
			want := "want a finite number"
			for _, o := range strings.Split(opts, ",") {
				if d, ok := strings.CutPrefix(strings.TrimSpace(o), "default="); ok {
					want += fmt.Sprintf(" such as %s (the default)", d)
				}
			}
			return &envError{msg: fmt.Sprintf("%s=%q: %s", name, raw, want), err: errNotFinite}
		}
	}
	return nil
}

// errNotFinite is a float setting given as NaN or ±Inf.
var errNotFinite = errors.New("not a finite number")

// envValueError explains a value of variable key that did not parse.
func envValueError(key, val string, err error) error {
	// Strip go-envconfig's field path ("Writeback: MaxTasks: ").
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		prefix, ok := strings.CutSuffix(err.Error(), ": "+u.Error())
		if !ok || strings.ContainsAny(prefix, " .") {
			break
		}
		err = u
	}
	shown := fmt.Sprintf("%s=%q", key, val)
	if secretName(key) {
		shown = key + " (value not shown)"
	}
	var numErr *strconv.NumError
	want := err.Error()
	switch {
	case errors.As(err, &numErr) && numErr.Func == "ParseBool":
		want = "want true or false"
	case errors.As(err, &numErr) && numErr.Func == "ParseFloat":
		want = "want a number"
	case errors.As(err, &numErr) && errors.Is(err, strconv.ErrRange):
		want = "out of range"
	case errors.As(err, &numErr):
		want = "want a whole number"
	case strings.HasPrefix(want, "time: "):
		want = "want a duration such as 90s, 15m or 24h"
	}
	return &envError{msg: shown + ": " + want, err: err}
}

// envError is an environment variable whose value does not parse.
type envError struct {
	msg string
	err error
}

func (e *envError) Error() string { return e.msg }
func (e *envError) Unwrap() error { return e.err }

// secretName reports whether a variable holds a secret whose value must
// not be repeated in a message.
func secretName(key string) bool {
	for _, s := range []string{"SECRET", "TOKEN", "PASSWORD", "KEY"} {
		if strings.Contains(key, s) && !strings.HasSuffix(key, "_FILE") {
			return true
		}
	}
	return false
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
	for _, w := range s.Warnings() {
		log.Warn(w)
	}
	st, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	log.Debug("store ready", "backend", s.Backend(), "where", s.Where(), "schema", st.Current)
	return s, nil
}
