package hubspot

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
)

// f is a filter of a test query: property, operator, value.
type f [3]string

// compileQuery compiles filter groups as the search handler does.
func compileQuery(tb *table, groups [][]f, text string) *query {
	q := &query{text: tokens(text)}
	for gi, g := range groups {
		var conds []cond
		for fi, x := range g {
			v := scalar(x[2])
			sf := searchFilter{PropertyName: x[0], Operator: x[1], Value: &v}
			switch x[1] {
			case "IN":
				sf.Value, sf.Values = nil, []scalar{"1", v}
			case "BETWEEN":
				hi := scalar("9999999999999")
				sf.HighValue = &hi
			}
			c, e := compileFilter(tb, gi, fi, sf)
			if e != nil {
				panic(fmt.Sprintf("filter %v: %v", x, e.Message))
			}
			conds = append(conds, c)
		}
		q.groups = append(q.groups, conds)
	}
	return q
}

// TestKeySearchAnswersAsTheScan checks the indexed search against reading
// every record: the same pages and totals for the searches a sync sends
// (keyset pages on the modified date, the association sweep's id pages
// with an hs_timestamp filter, the newest-first probe) and for others
// that fall back, before and after the portal changes (the cached matches
// of a filter must not outlive a write).
func TestKeySearchAnswersAsTheScan(t *testing.T) {
	t.Parallel()
	org, err := gen.Generate(gen.Options{Seed: 5, Accounts: 40})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Clock: crm.FixedClock(org.Now), RateLimits: RateLimits{Disabled: true}})
	if _, err := s.LoadOrg(org); err != nil {
		t.Fatal(err)
	}
	tb := s.tables["calls"]
	mod := tb.typ.modProp
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() *record { return tb.records[tb.ids[rng.IntN(len(tb.ids))]] }
	ms := func(r *record) string { return strconv.FormatInt(r.updatedAt.UnixMilli(), 10) }
	id := func(r *record) string { return strconv.FormatInt(r.id, 10) }
	ts := func(r *record) string {
		n, _ := timeValue(r.props["hs_timestamp"])
		return strconv.FormatInt(n, 10)
	}
	type search struct {
		groups [][]f
		text   string
		sort   string
		desc   bool
		want   bool // keySearch must answer it
	}
	check := func(round string) {
		t.Helper()
		var searches []search
		for range 30 {
			a, b := pick(), pick()
			searches = append(searches,
				search{groups: [][]f{{{mod, "EQ", ms(a)}, {"hs_object_id", "GT", id(a)}}, {{mod, "GT", ms(a)}}}, sort: mod, want: true},
				search{groups: [][]f{{{mod, "GTE", ms(a)}}}, sort: mod, want: true},
				search{groups: [][]f{{{"hs_timestamp", "GTE", ts(a)}, {"hs_object_id", "GT", id(b)}}}, sort: "hs_object_id", want: true},
				search{groups: [][]f{{{"hs_timestamp", "GTE", ts(a)}, {"hs_object_id", "GT", id(b)}}}, sort: "hs_object_id", desc: true, want: true},
				search{groups: [][]f{{{"hs_object_id", "GT", id(a)}}, {{"hs_object_id", "LTE", id(b)}}}, sort: "hs_object_id", want: true},
				search{groups: [][]f{{{mod, "BETWEEN", ms(b)}, {"hs_timestamp", "LT", ts(a)}}, {{mod, "EQ", ms(a)}, {"hs_timestamp", "LT", ts(a)}}}, sort: mod, want: true},
				search{groups: [][]f{{{"hs_object_id", "IN", id(a)}}}, sort: "hs_object_id", want: true},
				// Not ranges of the sort key with one common rest: the scan.
				search{groups: [][]f{{{mod, "GT", ms(a)}, {"hs_object_id", "GT", id(b)}}}, sort: mod},
				search{groups: [][]f{{{mod, "GT", ms(a)}}, {{"hs_timestamp", "GT", ts(b)}}}, sort: mod},
			)
		}
		searches = append(searches,
			search{sort: mod, desc: true, want: true},
			search{sort: mod, want: true},
			search{sort: "hs_object_id", text: "call", want: true},
			search{groups: [][]f{{{mod, "EQ", "1"}, {"hs_object_id", "GT", "5"}}}, sort: mod, want: true},
			search{groups: [][]f{{{"hs_object_id", "GT", "9"}, {"hs_object_id", "LT", "3"}}}, sort: "hs_object_id", want: true},
		)
		for i, se := range searches {
			q := compileQuery(tb, se.groups, se.text)
			for _, pg := range [][2]int{{0, 200}, {0, 7}, {7, 7}, {150, 200}, {len(tb.ids) - 3, 200}} {
				if pg[0] < 0 {
					continue
				}
				gotPage, gotCount, ok := s.keySearch(tb, q, se.sort, se.desc, pg[0], pg[1])
				if ok != se.want {
					t.Fatalf("%s: search %d (%v, sort %s) answered from the index: %v, want %v", round, i, se.groups, se.sort, ok, se.want)
				}
				if !ok {
					continue
				}
				wantPage, wantCount := s.scanSearch(tb, q, se.sort, se.desc, pg[0], pg[1])
				if gotCount != wantCount || !slices.Equal(gotPage, wantPage) {
					t.Fatalf("%s: search %d (%v, sort %s desc %v, page %v): index gives %d records of %d, scan %d of %d",
						round, i, se.groups, se.sort, se.desc, pg, len(gotPage), gotCount, len(wantPage), wantCount)
				}
			}
		}
	}
	check("as loaded")
	// Writes: moved activity dates, a modification, an archive.
	for range 20 {
		r := pick()
		if err := s.Update("calls", strconv.FormatInt(r.id, 10), map[string]string{"hs_timestamp": formatTime(org.Now.Add(-24 * 3600e9))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Archive("calls", strconv.FormatInt(pick().id, 10)); err != nil {
		t.Fatal(err)
	}
	check("after writes")

	// A filter's cached matches do not outlive a write: an activity moved
	// into the filtered dates counts at once.
	since := strconv.FormatInt(org.Now.Add(-3600e9).UnixMilli(), 10)
	q := compileQuery(tb, [][]f{{{"hs_timestamp", "GTE", since}}}, "")
	_, before, _ := s.keySearch(tb, q, "hs_object_id", false, 0, 200)
	var moved *record
	for _, id := range tb.ids {
		if r := tb.records[id]; ts(r) < since {
			moved = r
			break
		}
	}
	if err := s.Update("calls", strconv.FormatInt(moved.id, 10), map[string]string{"hs_timestamp": formatTime(org.Now)}); err != nil {
		t.Fatal(err)
	}
	if _, after, _ := s.keySearch(tb, q, "hs_object_id", false, 0, 200); after != before+1 {
		t.Errorf("after an activity moved into the dates the search counts %d, want %d", after, before+1)
	}
}

// BenchmarkKeysetPageOf200k compares one keyset page near the start of
// 200,000 calls, (modified = T AND id > L) OR (modified > T) and the
// association sweep's (hs_timestamp >= D AND id > L), answered from the
// index and by the scan: the scan reads every record after the key to
// count the total, so paging through a table that way is quadratic.
func BenchmarkKeysetPageOf200k(b *testing.B) {
	s := New(Options{RateLimits: RateLimits{Disabled: true}})
	tb := s.tables["calls"]
	base := int64(1_700_000_000_000)
	for i := int64(1); i <= 200_000; i++ {
		at := base + i/4*1000
		tb.records[i] = &record{id: i, props: map[string]string{"hs_timestamp": strconv.FormatInt(at, 10)}}
		tb.records[i].updatedAt = time.UnixMilli(at)
	}
	tb.rebuild()
	t := strconv.FormatInt(base+1000, 10)
	keyset := compileQuery(tb, [][]f{{{tb.typ.modProp, "EQ", t}, {"hs_object_id", "GT", "4"}}, {{tb.typ.modProp, "GT", t}}}, "")
	sweep := compileQuery(tb, [][]f{{{"hs_timestamp", "GTE", t}, {"hs_object_id", "GT", "4"}}}, "")
	for _, c := range []struct {
		name string
		q    *query
		sort string
	}{{"keyset", keyset, tb.typ.modProp}, {"sweep", sweep, "hs_object_id"}} {
		b.Run(c.name+"/index", func(b *testing.B) {
			for range b.N {
				if page, _, ok := s.keySearch(tb, c.q, c.sort, false, 0, 200); !ok || len(page) != 200 {
					b.Fatal("no page from the index")
				}
			}
		})
		b.Run(c.name+"/scan", func(b *testing.B) {
			for range b.N {
				if page, _ := s.scanSearch(tb, c.q, c.sort, false, 0, 200); len(page) != 200 {
					b.Fatal("no page from the scan")
				}
			}
		})
	}
}
