package status

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"

	"healthsync/scoring"
)

// Grade colours, shared by the SVG charts, the page's CSS and the
// screenshot test.
const (
	colourGreen  = "#2e9e44"
	colourYellow = "#e6b400"
	colourRed    = "#d64545"
	colourNone   = "#9aa0a6"
	colourInk    = "#1f2328"
	colourGrid   = "#d0d7de"
)

func gradeColour(grade string) string {
	switch scoring.Grade(grade) {
	case scoring.GradeGreen:
		return colourGreen
	case scoring.GradeYellow:
		return colourYellow
	case scoring.GradeRed:
		return colourRed
	}
	return colourNone
}

// svg accumulates an inline SVG document.
type svg struct{ b strings.Builder }

func newSVG(w, h int, label string) *svg {
	s := &svg{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="system-ui, sans-serif" font-size="12">`,
		w, h, w, h, html.EscapeString(label))
	return s
}

func (s *svg) rect(x, y, w, h float64, fill, title string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">`, x, y, max(w, 0), max(h, 0), fill)
	if title != "" {
		fmt.Fprintf(&s.b, `<title>%s</title>`, html.EscapeString(title))
	}
	s.b.WriteString(`</rect>`)
}

func (s *svg) text(x, y float64, anchor, fill, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s">%s</text>`, x, y, anchor, fill, html.EscapeString(txt))
}

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, dash bool) {
	d := ""
	if dash {
		d = ` stroke-dasharray="4 3"`
	}
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"%s/>`, x1, y1, x2, y2, stroke, d)
}

func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) //nolint:gosec // every text node is escaped above
}

// gradeBarChart draws one vertical bar per grade with its count.
func gradeBarChart(grades []gradeCount) template.HTML {
	const w, h, top, bottom, left = 420, 220, 20, 40, 10
	peak := 0
	for _, g := range grades {
		peak = max(peak, g.Count)
	}
	s := newSVG(w, h, "accounts per grade")
	plotH := float64(h - top - bottom)
	slot := float64(w-2*left) / float64(max(len(grades), 1))
	barW := slot * 0.62
	s.line(left, float64(h-bottom), float64(w-left), float64(h-bottom), colourGrid, false)
	for i, g := range grades {
		bh := 0.0
		if peak > 0 {
			bh = plotH * float64(g.Count) / float64(peak)
		}
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		y := float64(h-bottom) - bh
		s.rect(x, y, barW, bh, gradeColour(g.Grade), fmt.Sprintf("%s: %d accounts", g.Label, g.Count))
		s.text(x+barW/2, y-5, "middle", colourInk, fmt.Sprintf("%d", g.Count))
		s.text(x+barW/2, float64(h-bottom)+16, "middle", colourInk, g.Label)
		s.text(x+barW/2, float64(h-bottom)+31, "middle", "#57606a", fmt.Sprintf("%.0f%%", g.Share))
	}
	return s.html()
}

// pipelineChart draws one horizontal stacked bar per lifecycle stage,
// split by grade, scaled to the largest stage.
func pipelineChart(rows []stageRow) template.HTML {
	const w, rowH, labelW, right, top = 560, 30, 110, 50, 8
	h := top*2 + rowH*max(len(rows), 1)
	peak := 0
	for _, r := range rows {
		peak = max(peak, r.Total)
	}
	s := newSVG(w, h, "accounts per lifecycle stage and grade")
	plotW := float64(w - labelW - right)
	for i, r := range rows {
		y := float64(top + i*rowH)
		s.text(labelW-8, y+rowH/2+4, "end", colourInk, r.Stage)
		x := float64(labelW)
		for _, part := range []struct {
			grade string
			n     int
		}{{"green", r.Green}, {"yellow", r.Yellow}, {"red", r.Red}, {"", r.Non}} {
			if part.n == 0 || peak == 0 {
				continue
			}
			bw := plotW * float64(part.n) / float64(peak)
			s.rect(x, y+4, bw, rowH-8, gradeColour(part.grade), fmt.Sprintf("%s · %s: %d", r.Stage, gradeTitle(scoring.Grade(part.grade)), part.n))
			if bw >= 22 {
				s.text(x+bw/2, y+rowH/2+4, "middle", "#ffffff", fmt.Sprintf("%d", part.n))
			}
			x += bw
		}
		s.text(x+6, y+rowH/2+4, "start", colourInk, fmt.Sprintf("%d", r.Total))
	}
	return s.html()
}

// trendChart draws an account's score history as a line over time, the
// points coloured by grade, with the grade bands as dashed lines.
func trendChart(hist []historyRow, bands scoring.GradeBands) template.HTML {
	const w, h, left, right, top, bottom = 640, 260, 40, 16, 14, 30
	s := newSVG(w, h, "score trend")
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	yOf := func(score float64) float64 { return top + plotH*(1-math.Max(0, math.Min(100, score))/100) }
	// Band backgrounds, faint.
	s.rect(left, yOf(100), plotW, yOf(bands.Green)-yOf(100), "#e9f5ec", "")
	s.rect(left, yOf(bands.Green), plotW, yOf(bands.Yellow)-yOf(bands.Green), "#fcf5dc", "")
	s.rect(left, yOf(bands.Yellow), plotW, yOf(0)-yOf(bands.Yellow), "#fbe9e9", "")
	for _, v := range []float64{0, 25, 50, 75, 100} {
		s.line(left, yOf(v), float64(w-right), yOf(v), colourGrid, false)
		s.text(left-6, yOf(v)+4, "end", "#57606a", fmt.Sprintf("%.0f", v))
	}
	s.line(left, yOf(bands.Green), float64(w-right), yOf(bands.Green), colourGreen, true)
	s.line(left, yOf(bands.Yellow), float64(w-right), yOf(bands.Yellow), colourRed, true)

	var pts []historyRow
	for _, p := range hist {
		if p.Score != nil {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		s.text(float64(w)/2, float64(h)/2, "middle", "#57606a", "no score yet")
		return s.html()
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0)
	xOf := func(t time.Time) float64 {
		if span <= 0 {
			return left + plotW/2
		}
		return left + plotW*float64(t.Sub(t0))/float64(span)
	}
	var path strings.Builder
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, xOf(p.At), yOf(*p.Score))
	}
	fmt.Fprintf(&s.b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), colourInk)
	for _, p := range pts {
		fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s"><title>%s: %s</title></circle>`,
			xOf(p.At), yOf(*p.Score), gradeColour(p.Grade), p.At.Format(time.DateOnly), scoring.NumberValue(*p.Score).String())
	}
	s.text(left, float64(h-8), "start", "#57606a", t0.Format(time.DateOnly))
	if span > 0 {
		s.text(float64(w-right), float64(h-8), "end", "#57606a", t1.Format(time.DateOnly))
	}
	return s.html()
}
