package status_test

import (
	"context"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"healthsync/status"
	"healthsync/store"
)

// addRun records a finished run of kind.
func addRun(t *testing.T, b *bundle, kind, status, reason string, calls int64) {
	t.Helper()
	ctx := context.Background()
	start := b.now.Add(-10 * time.Minute)
	id, err := b.store.StartRun(ctx, conn, kind, start)
	if err != nil {
		t.Fatal(err)
	}
	end := start.Add(83 * time.Second)
	if err := b.store.FinishRun(ctx, store.Run{ID: id, FinishedAt: &end, Status: status, StopReason: reason, APICalls: calls,
		Counts: map[string]store.ObjectCounts{"Account": {New: 120, Changed: 3}, "Contact": {New: 410, Deleted: 2, Problems: 1}}}); err != nil {
		t.Fatal(err)
	}
}

const chromiumPath = "/usr/bin/chromium"

// screenshot loads url in headless Chromium and returns the decoded PNG.
func screenshot(t *testing.T, url string, width, height int) image.Image {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "page.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+out,
		"--window-size="+itoa(width)+","+itoa(height), url)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	// HEALTHSYNC_KEEP_SCREENSHOTS=dir keeps the screenshots for a look.
	if keep := os.Getenv("HEALTHSYNC_KEEP_SCREENSHOTS"); keep != "" {
		data, _ := os.ReadFile(out)
		os.WriteFile(filepath.Join(keep, t.Name()+"-"+itoa(width)+"x"+itoa(height)+".png"), data, 0o644)
	}
	return img
}

// countNear counts pixels within tol (per channel) of the colour.
func countNear(img image.Image, r, g, b uint8, tol int) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if abs(int(pr>>8)-int(r)) <= tol && abs(int(pg>>8)-int(g)) <= tol && abs(int(pb>>8)-int(b)) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestStatusPageInChromium renders the status page in a real browser and
// checks that the charts are drawn: the grade colours cover a plausible
// area of the screenshot.
func TestStatusPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("headless Chromium test SKIPPED: /usr/bin/chromium not found; `apt-get install chromium` (Debian) enables it")
	}
	b := setup(t, 120)
	srv := b.newServer(t, status.Options{Token: testToken})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- status.Serve(ctx, ln, srv) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	addRun(t, b, "sync", store.RunOK, "", 37)
	addRun(t, b, "apply", store.RunStopped, "api budget", 12)

	img := screenshot(t, base+"/?token="+testToken, 1280, 1600)
	green := countNear(img, 0x2e, 0x9e, 0x44, 12)
	yellow := countNear(img, 0xe6, 0xb4, 0x00, 12)
	red := countNear(img, 0xd6, 0x45, 0x45, 12)
	t.Logf("overview pixels: green %d, yellow %d, red %d", green, yellow, red)
	// A grade bar for a few dozen accounts is thousands of pixels; the
	// chips and text alone would be a few hundred.
	for name, n := range map[string]int{"green": green, "yellow": yellow, "red": red} {
		if n < 2000 {
			t.Errorf("%s covers %d pixels: the charts did not render with data", name, n)
		}
	}

	// An account page: the trend chart's grade bands and its points.
	var redID string
	b.store.ForEachLatestScore(context.Background(), conn, func(sc store.Score) error {
		if sc.Grade == "red" && redID == "" {
			redID = sc.AccountID
		}
		return nil
	})
	img = screenshot(t, base+"/accounts/"+redID+"?token="+testToken, 1000, 900)
	greenBand := countNear(img, 0xe9, 0xf5, 0xec, 3)
	redBand := countNear(img, 0xfb, 0xe9, 0xe9, 3)
	redPoints := countNear(img, 0xd6, 0x45, 0x45, 12)
	t.Logf("account pixels: green band %d, red band %d, red points and chip %d", greenBand, redBand, redPoints)
	if greenBand < 10000 || redBand < 10000 || redPoints < 100 {
		t.Errorf("account trend chart did not render: green band %d, red band %d, red %d pixels", greenBand, redBand, redPoints)
	}

	// Without the token the browser gets the 401 text, no charts.
	img = screenshot(t, base+"/", 800, 600)
	if n := countNear(img, 0x2e, 0x9e, 0x44, 12); n > 0 {
		t.Errorf("page without token shows %d green pixels", n)
	}
}
