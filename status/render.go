package status

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"healthsync/render"
)

//go:embed templates/*.html
var templateFiles embed.FS

// parsePages parses the embedded page templates.
func parsePages() (*template.Template, error) {
	funcs := template.FuncMap{
		"money":       render.Money,
		"num":         num,
		"opt":         optNum,
		"pct":         func(f float64) string { return fmt.Sprintf("%.0f%%", f) },
		"when":        func(t time.Time) string { return when(t) },
		"gradeColour": gradeColour,
		"deref":       deref,
		"gradeTitle":  func(g string) string { return gradeTitleString(g) },
	}
	t, err := template.New("pages").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse status page templates: %w", err)
	}
	return t, nil
}

func gradeTitleString(g string) string {
	if g == "" || g == gradeNone {
		return "No score"
	}
	return strings.ToUpper(g[:1]) + g[1:]
}

func num(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

// optNum prints an optional number, or an en dash.
func optNum(f *float64) string {
	if f == nil {
		return "–"
	}
	return num(*f)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// tokenQuery carries a ?token= the caller used into the page's links.
func (s *Server) tokenQuery(r *http.Request) string {
	if s.opts.Token == "" {
		return ""
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		return "?token=" + url.QueryEscape(tok)
	}
	return ""
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.opts.Log.Error("render status page", "page", name, "error", err)
		http.Error(w, "internal error rendering the page; see the log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadOverview(r.Context())
	if err != nil {
		s.opts.Log.Error("load status page", "error", err)
		http.Error(w, "cannot read the store; see the log", http.StatusInternalServerError)
		return
	}
	d.GradeChart = gradeBarChart(d.Grades)
	d.PipelineChart = pipelineChart(d.Pipeline)
	d.TokenQuery = s.tokenQuery(r)
	s.render(w, "overview.html", d)
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAccount(r.Context(), r.PathValue("id"))
	if errors.Is(err, errNoAccount) {
		http.Error(w, "no account with this ID in the store", http.StatusNotFound)
		return
	}
	if err != nil {
		s.opts.Log.Error("load account page", "error", err)
		http.Error(w, "cannot read the store; see the log", http.StatusInternalServerError)
		return
	}
	hist := make([]historyRow, len(d.History))
	copy(hist, d.History)
	for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
		hist[i], hist[j] = hist[j], hist[i]
	}
	d.TrendChart = trendChart(hist, d.Bands)
	d.TokenQuery = s.tokenQuery(r)
	s.render(w, "account.html", d)
}
