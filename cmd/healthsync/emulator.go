package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
)

// emulatorOptions are the flags shared by `emulator` and `demo`.
type emulatorOptions struct {
	system   string
	accounts int
	seed     int64
	csvDir   string
	// faults
	errorRate float64
	latency   time.Duration
	lockRate  float64
	trickle   time.Duration
}

func (o *emulatorOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.system, "crm", "salesforce", "which CRM to emulate: `salesforce` or hubspot")
	fs.IntVar(&o.accounts, "accounts", 200, "how many customer `accounts` the generated org has")
	fs.Int64Var(&o.seed, "seed", 1, "generator `seed`: the same seed gives the same org")
	fs.StringVar(&o.csvDir, "csv", "", "load this `directory` of CSV exports instead of generating data (Data Loader format for Salesforce, one file per object type for HubSpot)")
	fs.Float64Var(&o.errorRate, "fault-errors", 0, "`fraction` of API requests answered with a 5xx")
	fs.DurationVar(&o.latency, "fault-latency", 0, "`delay` added to every API request")
	fs.Float64Var(&o.lockRate, "fault-locks", 0, "Salesforce: `fraction` of written records failing with UNABLE_TO_LOCK_ROW")
	fs.DurationVar(&o.trickle, "fault-trickle", 0, "send every API answer one byte per `interval` (a stalled CRM)")
}

// emulated is a running emulator: its handler, env lines and inspection.
type emulated struct {
	system   crm.System
	handler  http.Handler
	envLines func(baseURL string) []string
	sf       *emusalesforce.Server
	hs       *emuhubspot.Server
	org      *gen.Org

	// clientLines are the lines for clients other than healthsync.
	clientLines func(baseURL string) []string
}

// validate checks the flags before anything is created or replaced;
// cmd names the command whose --help the message points to.
func (o emulatorOptions) validate(cmd string) (crm.System, error) {
	sys, err := crm.ParseSystem(o.system)
	if err != nil {
		return "", usagef(cmd, "--crm: %v", err)
	}
	if o.accounts < 1 && o.csvDir == "" {
		return "", usagef(cmd, "--accounts must be at least 1")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--fault-errors", o.errorRate}, {"--fault-locks", o.lockRate}} {
		if f.v < 0 || f.v > 1 {
			return "", usagef(cmd, "%s %v: give a fraction between 0 and 1, e.g. 0.05 for 5%%", f.name, f.v)
		}
	}
	if o.latency < 0 {
		return "", usagef(cmd, "--fault-latency %s: give a delay that is not negative, e.g. 200ms", o.latency)
	}
	if o.trickle < 0 {
		return "", usagef(cmd, "--fault-trickle %s: give an interval that is not negative, e.g. 1s", o.trickle)
	}
	return sys, nil
}

// newEmulated builds the emulated CRM and loads its data; o must have
// passed validate. A CSV load reports what it skipped, added and loaded
// to report.
func newEmulated(o emulatorOptions, keyFile string, report io.Writer) (*emulated, error) {
	sys, err := o.validate("emulator")
	if err != nil {
		return nil, err
	}
	em := &emulated{system: sys}
	if o.csvDir == "" {
		if em.org, err = gen.Generate(gen.Options{Seed: o.seed, Accounts: o.accounts, Now: crm.SystemClock{}.Now()}); err != nil {
			return nil, fmt.Errorf("generate org: %w", err)
		}
	}
	switch sys {
	case crm.Salesforce:
		em.sf = emusalesforce.New(emusalesforce.Options{KeyFile: keyFile, Faults: emusalesforce.Faults{
			Seed: o.seed, Unavailable: o.errorRate, Latency: o.latency, LockRow: o.lockRate, Trickle: o.trickle}})
		if em.org != nil {
			err = em.sf.LoadOrg(em.org)
		} else {
			err = em.sf.LoadExport(o.csvDir, report)
		}
		em.handler, em.envLines, em.clientLines = em.sf, em.sf.EnvLines, em.sf.ClientLines
	case crm.HubSpot:
		em.hs = emuhubspot.New(emuhubspot.Options{AutoApprove: false, Faults: emuhubspot.Faults{
			Seed: uint64(o.seed), ServerErrorRate: o.errorRate, Latency: o.latency, Trickle: o.trickle}})
		if em.org != nil {
			_, err = em.hs.LoadOrg(em.org)
		} else {
			err = em.hs.LoadExport(o.csvDir, report)
		}
		em.handler, em.envLines, em.clientLines = em.hs, em.hs.EnvLines, em.hs.ClientLines
	}
	if err != nil {
		return nil, fmt.Errorf("load emulator data: %w", err)
	}
	return em, nil
}

// Close removes what the emulator left on disk (the Salesforce JWT key
// in its own temporary directory).
func (em *emulated) Close() error {
	if em.sf != nil {
		return em.sf.Close()
	}
	return nil
}

// serve listens on addr (loopback) and serves until ctx ends. It returns
// the base URL once listening, and a channel that reports the end.
func (em *emulated) serve(ctx context.Context, addr string) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: em.handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), done, nil
}

// emulatorCommand is `healthsync emulator`.
func emulatorCommand() *command {
	return &command{
		name:    "emulator",
		summary: "run an emulated Salesforce org or HubSpot portal with generated data",
		help: `Starts an emulated CRM on a loopback port with a generated org (or your CSV
export), prints the environment that points healthsync at it as KEY=value
lines, and serves until interrupted (Ctrl-C). Lines starting EMULATOR_
are for other clients (a script, jsforce, curl): the instance URL and a
ready access token. In another shell:

  healthsync emulator --env-file /tmp/hs.env &
  set -a; . /tmp/hs.env; set +a
  healthsync sync && healthsync score && healthsync plan

The emulator follows the real APIs (OAuth, REST/SOQL, Bulk API 2.0, Tooling
API; HubSpot CRM v3/v4 with its rate limits), so every command works against
it as against a real org.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var o emulatorOptions
			o.register(fs)
			listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on (port 0 picks a free one)")
			envFile := fs.String("env-file", "", "also write the KEY=value lines to this `file` (mode 0600)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("emulator", args); err != nil {
					return err
				}
				if host, _, err := net.SplitHostPort(*listen); err != nil || !isLoopback(host) {
					return usagef("emulator", "--listen %q: give a loopback address such as 127.0.0.1:8443 (the emulator accepts any password)", *listen)
				}
				em, err := newEmulated(o, "", e.stderr)
				if err != nil {
					return err
				}
				defer em.Close()
				base, done, err := em.serve(ctx, *listen)
				if err != nil {
					return err
				}
				lines := strings.Join(append(em.envLines(base), em.clientLines(base)...), "\n") + "\n"
				fmt.Fprint(e.stdout, lines)
				if *envFile != "" {
					if err := os.WriteFile(*envFile, []byte(lines), 0o600); err != nil {
						return fmt.Errorf("write env file: %w", err)
					}
				}
				fmt.Fprintf(e.stderr, "emulated %s serving at %s; Ctrl-C stops it\n", em.system, base)
				<-ctx.Done()
				return <-done
			}
		},
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
