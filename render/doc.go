// Package render writes scoring's results the way people read them, in a
// terminal or a spreadsheet: one account explained ([Explain],
// [ExplainJSON]), the portfolio KPIs and CSM pipeline ([Report],
// [ReportJSON], [ReportCSV]) and how well past scores ranked churn
// ([Backtest], [BacktestCSV]). The CLI's explain, report and backtest
// commands print through it.
//
// scoring computes and render only formats: a result in, text out, no
// I/O beyond the writer it is given. Aligned text has no trailing spaces,
// so it diffs cleanly; the golden files under testdata pin every format
// (go test -update rewrites them).
package render
