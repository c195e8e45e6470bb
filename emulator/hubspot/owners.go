package hubspot

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Owner is a HubSpot user who can own records.
type Owner struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	UserID    int64
	Archived  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

type wireOwner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Type      string `json:"type"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    int64  `json:"userId"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Archived  bool   `json:"archived"`
	Teams     []any  `json:"teams"`
}

func (o *Owner) wire() wireOwner {
	return wireOwner{ID: o.ID, Email: o.Email, Type: "PERSON", FirstName: o.FirstName, LastName: o.LastName,
		UserID: o.UserID, CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt),
		Archived: o.Archived, Teams: []any{}}
}

// AddOwner adds an owner (a HubSpot user) and returns its id.
func (s *Server) AddOwner(email, firstName, lastName string) string {
	s.lockWrite()
	defer s.mu.Unlock()
	return s.addOwnerLocked(email, firstName, lastName, s.now()).ID
}

func (s *Server) addOwnerLocked(email, firstName, lastName string, at time.Time) *Owner {
	s.nextOwner++
	o := &Owner{ID: strconv.FormatInt(s.nextOwner, 10), Email: email, FirstName: firstName, LastName: lastName,
		UserID: 9000000 + s.nextOwner, CreatedAt: at, UpdatedAt: at}
	s.owners[o.ID] = o
	return o
}

// Owners returns copies of all owners, ordered by id.
func (s *Server) Owners() []Owner {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Owner, 0, len(s.owners))
	for _, o := range s.sortedOwners() {
		out = append(out, *o)
	}
	return out
}

func (s *Server) sortedOwners() []*Owner {
	out := make([]*Owner, 0, len(s.owners))
	for _, o := range s.owners {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.ParseInt(out[i].ID, 10, 64)
		b, _ := strconv.ParseInt(out[j].ID, 10, 64)
		return a < b
	})
	return out
}

// handleOwners serves GET /crm/v3/owners and /crm/v3/owners/{id}.
func (s *Server) handleOwners(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	if r.Method != http.MethodGet {
		s.writeError(w, newAPIError(http.StatusMethodNotAllowed, catValidation, "Method %s is not supported on owners", r.Method))
		return
	}
	if !s.requireScopes(w, c, "crm.objects.owners.read") {
		return
	}
	q := r.URL.Query()
	archived := q.Get("archived") == "true"
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(parts) > 0 && parts[0] != "" {
		o, ok := s.owners[parts[0]]
		if q.Get("idProperty") == "userId" {
			ok = false
			for _, cand := range s.owners {
				if strconv.FormatInt(cand.UserID, 10) == parts[0] {
					o, ok = cand, true
				}
			}
		}
		if !ok || o.Archived != archived {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Owner %s not found", parts[0]))
			return
		}
		writeJSON(w, http.StatusOK, o.wire())
		return
	}
	limit, after, perr := pageParams(q.Get("limit"), q.Get("after"), 500, 100)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	email := strings.ToLower(q.Get("email"))
	var matched []*Owner
	for _, o := range s.sortedOwners() {
		if o.Archived != archived || (email != "" && strings.ToLower(o.Email) != email) {
			continue
		}
		matched = append(matched, o)
	}
	res := []wireOwner{}
	for i := after; i < len(matched) && i < after+limit; i++ {
		res = append(res, matched[i].wire())
	}
	out := map[string]any{"results": res}
	next := ""
	switch {
	case s.faultsNow().LoopPaging && len(res) > 0:
		next = strconv.Itoa(after) // this very page again
	case after+limit < len(matched):
		next = strconv.Itoa(after + limit)
	}
	if next != "" {
		out["paging"] = map[string]any{"next": map[string]string{"after": next, "link": s.link(r, next)}}
	}
	writeJSON(w, http.StatusOK, out)
}
