package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// env is what every command gets: its output streams and the environment.
type env struct {
	stdout, stderr io.Writer
	lookuper       envconfig.Lookuper
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	args    string // argument synopsis after the flags, e.g. "ACCOUNT"
	summary string // one line for the command list
	help    string // paragraphs for `healthsync CMD --help`
	// flags declares the command's flags on fs and returns the function
	// that runs it with the remaining arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) error
}

// commands lists the CLI in the order `healthsync help` shows it (the
// order it has always had).
func commands() []*command {
	return []*command{
		backtestCommand(),
		authCommand(),
		syncCommand(),
		checkCommand(),
		installCommand(),
		planCommand(),
		applyCommand(),
		runCommand(),
		demoCommand(),
		emulatorCommand(),
		explainCommand(),
		migrateCommand(),
		reportCommand(),
		scoreCommand(),
		versionCommand(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func realMain(ctx context.Context, args []string, lookuper envconfig.Lookuper, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr, lookuper: lookuper}
	if len(args) == 0 {
		printOverview(stderr)
		return usagef("", "no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c := findCommand(args[1])
			if c == nil {
				return usagef("", "unknown command %q", args[1])
			}
			printCommandHelp(stdout, c)
			return nil
		}
		printOverview(stdout)
		return nil
	case "-v", "-version", "--version":
		name = "version"
	}
	c := findCommand(name)
	if c == nil {
		return usagef("", "unknown command %q%s", name, suggest(name))
	}
	fs := c.flagSet(io.Discard)
	run := c.flags(fs)
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, c)
			return errHelpShown
		}
		return usagef(c.name, "%v%s", err, flagWant(fs, err))
	}
	return explainAPIError(run(ctx, e, rest))
}

// parseInterspersed parses flags wherever they stand among the
// arguments: the flag package stops at the first argument that is not a
// flag, so `healthsync auth salesforce --timeout 5s` used to leave
// --timeout unparsed and fail with "name the CRM". Everything after a
// "--" is an argument, even when it starts with a dash.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" && !flagValue(fs, args[:used-1]) {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagValue reports whether the last of args is a flag that takes the
// next argument as its value (so a following "--" is that value, not
// the end of the flags).
func flagValue(fs *flag.FlagSet, args []string) bool {
	if len(args) == 0 {
		return false
	}
	name, ok := strings.CutPrefix(args[len(args)-1], "-")
	if !ok || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimPrefix(name, "-"))
	if f == nil {
		return false
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return false
	}
	return true
}

// flagWant tells what form a flag wants when the flag package rejected
// its value ("invalid value … for flag -interval: parse error", "invalid
// boolean value … for -json: parse error").
func flagWant(fs *flag.FlagSet, err error) string {
	_, rest, ok := strings.Cut(err.Error(), " for flag -")
	if !ok {
		if _, rest, ok = strings.Cut(err.Error(), " for -"); !ok { // booleans
			return ""
		}
	}
	name, _, _ := strings.Cut(rest, ":")
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "; want a duration such as 90s, 15m or 1h"
	case int, int64, uint, uint64:
		return "; want a whole number"
	case float64:
		return "; want a number"
	case bool:
		return "; want true or false"
	}
	return ""
}

func (c *command) flagSet(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("healthsync "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

func printOverview(w io.Writer) {
	fmt.Fprintln(w, "healthsync puts customer-health scores, reasons and follow-up tasks inside Salesforce and HubSpot.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: healthsync COMMAND [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Configuration comes from HEALTHSYNC_* environment variables (see the README) and the")
	fmt.Fprintln(w, "mapping file. Run `healthsync COMMAND --help` for a command's flags.")
}

func printCommandHelp(w io.Writer, c *command) {
	fs := c.flagSet(w)
	c.flags(fs) // declare the flags so they can be listed
	synopsis := "healthsync " + c.name
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		synopsis += " [flags]"
	}
	if c.args != "" {
		synopsis += " " + c.args
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

// suggest returns ` (did you mean "x"?)` for a near miss.
func suggest(name string) string {
	best, bestD := "", 3
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		names = append(names, c.name)
	}
	slices.Sort(names)
	for _, n := range names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// noArgs rejects positional arguments for commands that take none.
func noArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usagef(cmd, "unexpected argument %q", args[0])
	}
	return nil
}
