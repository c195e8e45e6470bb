package sync

import (
	"time"

	"healthsync/store"
)

// maxExamples is how many per-record problems a run keeps as examples;
// all of them are counted.
const maxExamples = 20

// ObjectReport is what a sync did to one object.
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
