package sync

import (
	"time"

	"healthsync/store"
)

// maxExamples is how many per-record problems a run keeps as examples;
// all of them are counted.
const maxExamples = 20

// ObjectReport is what a sync did to one object. Every record received
// is counted once: new, changed or deleted (Counts), AlreadyDeleted, or
// a problem that kept it from being stored (a record the connector could
// not read); records stored with some values left out are counted as new
// or changed and also as problems.
type ObjectReport struct {
	Object   string
	Counts   store.ObjectCounts
	Duration time.Duration
	// Repulled lists the fields whose absence from stored records made the
	// object be pulled again from the start.
	Repulled []string
	// Remapped is set when stored raw records were mapped again.
	Remapped   bool
	Reconciled bool
	// History is what the run did about the object's field history
	// (a backfill from the CRM's field history); nil when nothing.
	History *HistoryReport

	// AlreadyDeleted counts records received as deleted that the store
	// did not hold live: deleted (or archived) in the CRM before
	// healthsync stored them, as a first sync finds in the recycle bin,
	// or a deletion read again in the look-back window. Nothing is
	// stored for them.
	AlreadyDeleted int
}

// Report is the outcome of one sync run.
type Report struct {
	RunID      int64
	Objects    []*ObjectReport
	APICalls   int64
	Duration   time.Duration
	Status     string // store.RunOK, RunStopped, RunFailed
	StopReason string
	Problems   []store.Problem // the first maxExamples
	Problem    int             // how many problems in all
}

func (r *Report) object(name string) *ObjectReport {
	for _, o := range r.Objects {
		if o.Object == name {
			return o
		}
	}
	o := &ObjectReport{Object: name}
	r.Objects = append(r.Objects, o)
	return o
}

func (r *Report) addProblem(p store.Problem) {
	r.Problem++
	if len(r.Problems) < maxExamples {
		r.Problems = append(r.Problems, p)
	}
}

// Total sums the counts over all objects.
func (r *Report) Total() store.ObjectCounts {
	var t store.ObjectCounts
	for _, o := range r.Objects {
		t.New += o.Counts.New
		t.Changed += o.Counts.Changed
		t.Deleted += o.Counts.Deleted
		t.Problems += o.Counts.Problems
		t.Pages += o.Counts.Pages
	}
	return t
}
