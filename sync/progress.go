package sync

// Progress hears about a sync's progress, object by object: Start, Page
// per committed page, then Done when the object's pull succeeded or
// Failed when it ended in an error (which the caller reports). The CLI
// shows it as a redrawn line on a terminal or as log lines.
type Progress interface {
	Start(object string)
	Page(object string, records int)
	Done(object string)
	Failed(object string)
}

type noProgress struct{}

func (noProgress) Start(string)     {}
func (noProgress) Page(string, int) {}
func (noProgress) Done(string)      {}
func (noProgress) Failed(string)    {}
