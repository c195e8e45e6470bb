package scoring

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

const (
	benchAccounts   = 50_000
	benchActivities = 1_000_000
	benchChunk      = 1_000 // accounts generated at a time, as the store streams them
)

// BenchmarkScore50kAccounts scores 50,000 accounts holding 1,000,000
// activities (20 per account, 6 contacts each). The data is generated
// deterministically a chunk at a time with the timer stopped, so only
// scoring is measured and memory stays bounded like the store's stream.
func BenchmarkScore50kAccounts(b *testing.B) {
	s := newScorer(b, DefaultConfig())
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	history := []ScorePoint{{At: at.AddDate(0, 0, -30), Score: 60}}
	perAccount := benchActivities / benchAccounts
	chunk := make([]AccountData, benchChunk)
	b.ReportAllocs()
	b.ResetTimer()
	scored := 0
	var peak uint64
	for i := 0; i < b.N; i++ {
		rng := rand.New(rand.NewPCG(42, 7))
		for start := 0; start < benchAccounts; start += benchChunk {
			b.StopTimer()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			for j := range chunk {
				chunk[j] = genAccount(rng, start+j, 6, perAccount, at)
			}
			b.StartTimer()
			for j := range chunk {
				r := s.Score(chunk[j], at, history)
				if r.Score != nil {
					scored++
				}
			}
		}
	}
	b.StopTimer()
	if scored == 0 {
		b.Fatal("no account got a score")
	}
	b.ReportMetric(float64(benchAccounts*b.N)/b.Elapsed().Seconds(), "accounts/s")
	b.ReportMetric(0, "ns/op")
	// Heap in use between chunks: bounded by a chunk of bundles, not the org.
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
