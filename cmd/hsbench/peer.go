package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The peer is bench/jsforce-pull.mjs: the full pull a RevOps engineer
// would write with jsforce (describe, then autoFetch of every field of
// Account, Contact, Opportunity, Task and Event to NDJSON), run by node
// against the same emulated org in the same run. jsforce comes from npm,
// pinned by bench/package-lock.json and installed by `npm ci` when
// bench/node_modules does not hold that version.

// peerObjects are the objects the peer pulls.
const peerObjects = "Account,Contact,Opportunity,Task,Event"

// peerScript is the peer's path under the repository root.
const peerScript = "bench/jsforce-pull.mjs"

// peer is a prepared peer: the script and node, or why not.
type peer struct {
	node    string
	script  string
	skipped string // the reason the peer is not run; "" when it is
}

// preparePeer finds the script from the working directory up to the
// module root, checks node and npm, and installs jsforce with `npm ci`
// when bench/node_modules lacks the locked version. Whatever is missing
// becomes the reason the peer is skipped, never an error of the bench.
func preparePeer(ctx context.Context, enabled bool) peer {
	if !enabled {
		return peer{skipped: "-peer=false"}
	}
	root, err := moduleRoot()
	if err != nil {
		return peer{skipped: err.Error()}
	}
	dir := filepath.Join(root, "bench")
	script := filepath.Join(root, peerScript)
	if _, err := os.Stat(script); err != nil {
		return peer{skipped: peerScript + " not found under " + root}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return peer{skipped: "node is not installed (the peer needs Node.js 18 or later and npm)"}
	}
	if want, have := lockedJSforce(dir), installedJSforce(dir); want == "" || want != have {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return peer{skipped: "npm is not installed (it installs jsforce into bench/node_modules)"}
		}
		fmt.Fprintf(os.Stderr, "hsbench: installing jsforce %s into %s (npm ci)...\n", want, filepath.Join(dir, "node_modules"))
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, npm, "ci", "--prefix", dir, "--ignore-scripts", "--no-audit", "--no-fund")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return peer{skipped: fmt.Sprintf("npm ci --prefix bench failed (%v): %s", err, lastLine(out.String()))}
		}
		if have := installedJSforce(dir); have == "" {
			return peer{skipped: "npm ci --prefix bench installed no jsforce"}
		}
	}
	return peer{node: node, script: script}
}

// moduleRoot is the nearest directory at or above the working directory
// holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory (run hsbench from the repository)")
		}
		dir = parent
	}
}

// lockedJSforce is the jsforce version bench/package-lock.json pins.
func lockedJSforce(dir string) string {
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil || json.Unmarshal(raw, &lock) != nil {
		return ""
	}
	return lock.Packages["node_modules/jsforce"].Version
}

// installedJSforce is the jsforce version in bench/node_modules, or "".
func installedJSforce(dir string) string {
	var pkg struct {
		Version string `json:"version"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "jsforce", "package.json"))
	if err != nil || json.Unmarshal(raw, &pkg) != nil {
		return ""
	}
	return pkg.Version
}

// firstLines is up to n lines of s (a Node stack trace ends in the
// version line; what went wrong is at its start), joined by " | ".
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], " | ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// peerResult is what the script prints.
type peerResult struct {
	Records    int            `json:"records"`
	PerObject  map[string]int `json:"per_object"`
	Seconds    float64        `json:"seconds"`
	CPUSeconds float64        `json:"cpu_seconds"`
	PeakRSSKiB int64          `json:"peak_rss_kib"`
	JSforce    string         `json:"jsforce"`

	calls int64 // counted by the parent in front of the emulator
}

// runPeer gets an access token by the emulator's OAuth password flow
// (not counted, like every token request) and runs the script with it,
// writing its NDJSON into the bench's directory (removed afterwards).
func (b *bench) runPeer(ctx context.Context, p peer) (peerResult, error) {
	var res peerResult
	var spec childSpec
	spec.LoginURL = b.base
	b.org.credentials(&spec)
	tok, instance, err := passwordToken(ctx, &http.Client{Timeout: time.Minute}, spec)
	if err != nil {
		return res, err
	}
	out := filepath.Join(b.dir, "peer.ndjson")
	defer os.Remove(out)
	// jsforce keeps every record of a query in memory (Query.records)
	// however they are consumed (about 5 KiB a Task): a larger heap lets
	// it finish at 100k, bounded by half the memory available so that a
	// peer too big for the machine fails alone ("JavaScript heap out of
	// memory", reported in the table) instead of drawing the kernel's OOM
	// killer onto the bench and its emulated org.
	cmd := exec.CommandContext(ctx, p.node, fmt.Sprintf("--max-old-space-size=%d", peerHeapMiB()), p.script,
		"--instance-url", instance, "--out", out, "--objects", peerObjects, "--version", "62.0")
	cmd.Env = append(os.Environ(), "HSBENCH_PEER_TOKEN="+tok)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	calls := b.rec.total.Load()
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("%v: %s", err, firstLines(stderr.String(), 6))
	}
	res.calls = b.rec.total.Load() - calls
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("read its result: %w (%q)", err, stdout.String())
	}
	if res.Records == 0 || res.Seconds <= 0 {
		return res, fmt.Errorf("it pulled %d records in %v s", res.Records, res.Seconds)
	}
	return res, nil
}

// peerHeapMiB is the peer's V8 heap limit: half of MemAvailable, between
// 1 GiB and 16 GiB (4 GiB where /proc/meminfo is not there).
func peerHeapMiB() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 4096
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				break
			}
			return min(max(kib/1024/2, 1024), 16384)
		}
	}
	return 4096
}
