package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Answers are decoded into the types of pull.go and assoc.go; the methods
// here refuse the answers that would otherwise decode into something that
// looks valid but is not: an empty object, null, or another endpoint's JSON
// would read as an empty last page; an association without its target's
// ID would link an activity to nothing.

// UnmarshalJSON reads a search or list answer, which always holds a
// results array (empty on an empty page).
func (p *pageResponse) UnmarshalJSON(b []byte) error {
	type plain pageResponse
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Results == nil {
		return errors.New("the answer has no results array")
	}
	*p = pageResponse(v)
	return nil
}

// UnmarshalJSON reads a v4 association batch read answer: a results array
// (empty when nothing is associated) whose entries name the record they
// are from and each target's ID. Entries for the same record are merged
// and a target named twice is kept once.
func (a *assocBatchResponse) UnmarshalJSON(b []byte) error {
	type plain assocBatchResponse
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Results == nil {
		return errors.New("the answer has no results array")
	}
	merged := v.Results[:0:0]
	at := map[string]int{}       // from ID → index in merged
	seen := map[[2]string]bool{} // (from ID, to ID) already kept
	for i, r := range v.Results {
		if r.From.ID == "" {
			return fmt.Errorf("association result %d has no from.id", i)
		}
		j, ok := at[r.From.ID]
		if !ok {
			j = len(merged)
			at[r.From.ID] = j
			r2 := r
			r2.To = nil
			merged = append(merged, r2)
		}
		for _, t := range r.To {
			if t.ToObjectID == "" {
				return fmt.Errorf("an association of %s has no toObjectId", r.From.ID)
			}
			k := [2]string{r.From.ID, t.ToObjectID.String()}
			if !seen[k] {
				seen[k] = true
				merged[j].To = append(merged[j].To, t)
			}
		}
	}
	v.Results = merged
	*a = assocBatchResponse(v)
	return nil
}
