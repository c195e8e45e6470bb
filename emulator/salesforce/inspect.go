package salesforce

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Credentials are what a client needs to log in to the emulated org.
type Credentials struct {
	OrgID        string
	UserID       string
	ClientID     string // the connected app's consumer key
	ClientSecret string
	Username     string // the API user
	Password     string
	// PrivateKeyPEM signs JWT bearer assertions (PKCS #1 RSA key);
	// CertificatePEM is the certificate the connected app verifies them with.
	PrivateKeyPEM  []byte
	CertificatePEM []byte
}

// Credentials returns the connected app's and the API user's credentials.
func (s *Server) Credentials() Credentials {
	return Credentials{
		OrgID: s.orgID, UserID: s.userID, ClientID: s.app.clientID, ClientSecret: s.app.clientSecret,
		Username: s.opts.Username, Password: s.opts.Password,
		PrivateKeyPEM: append([]byte(nil), s.app.keyPEM...), CertificatePEM: append([]byte(nil), s.app.certPEM...),
	}
}

// WritePrivateKey writes the JWT signing key as PEM to path with mode 0600.
func (s *Server) WritePrivateKey(path string) error {
	if err := os.WriteFile(path, s.app.keyPEM, 0o600); err != nil {
		return fmt.Errorf("write JWT private key: %w", err)
	}
	return nil
}

// keyFilePath writes the private key once (to Options.KeyFile or into a
// new temporary directory of this server's own) and returns its path.
// The directory is named at random: another emulator on the machine,
// another user's or a parallel test's, never writes over this key, as
// they did when every emulator used one path named after the org ID.
func (s *Server) keyFilePath() (string, error) {
	s.keyFileMu.Lock()
	defer s.keyFileMu.Unlock()
	if s.keyFile != "" {
		return s.keyFile, nil
	}
	path := s.opts.KeyFile
	dir := ""
	if path == "" {
		var err error
		if dir, err = os.MkdirTemp("", "healthsync-salesforce-emulator-"); err != nil {
			return "", fmt.Errorf("JWT private key directory: %w", err)
		}
		path = filepath.Join(dir, "jwt.key")
	}
	if err := s.WritePrivateKey(path); err != nil {
		if dir != "" {
			os.RemoveAll(dir)
		}
		return "", err
	}
	s.keyFile, s.keyDir = path, dir
	return path, nil
}

// Close removes the JWT private key EnvLines wrote into the server's own
// temporary directory, and the directory (a KeyFile given in Options is
// the caller's to remove). The server itself needs no closing; call
// Close when done with it. EnvLines after Close writes a new key file.
func (s *Server) Close() error {
	s.keyFileMu.Lock()
	defer s.keyFileMu.Unlock()
	dir := s.keyDir
	s.keyFile, s.keyDir = "", ""
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove JWT private key: %w", err)
	}
	return nil
}

// EnvLines returns KEY=value lines that point healthsync at this emulator
// served at baseURL (used as both login and instance URL). The JWT key is
// written to a file (Options.KeyFile, or a temporary directory of the
// server's own that Close removes); if that fails the key line is left
// out and the password flow still works.
func (s *Server) EnvLines(baseURL string) []string {
	baseURL = strings.TrimSuffix(baseURL, "/")
	lines := []string{
		"HEALTHSYNC_CRM=salesforce",
		"HEALTHSYNC_SALESFORCE_LOGIN_URL=" + baseURL,
		"HEALTHSYNC_SALESFORCE_CLIENT_ID=" + s.app.clientID,
		"HEALTHSYNC_SALESFORCE_CLIENT_SECRET=" + s.app.clientSecret,
		"HEALTHSYNC_SALESFORCE_USERNAME=" + s.opts.Username,
	}
	if path, err := s.keyFilePath(); err == nil {
		lines = append(lines, "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE="+path)
	}
	return lines
}

// ClientLines returns lines for clients other than healthsync (a script,
// jsforce, the Salesforce CLI, curl), labelled as such in a comment: the
// instance URL, the REST API version and an access token of the API user,
// minted now, so a client can call the REST API at once without
// implementing a login. The token is a session like any other: it lapses
// after Options.SessionIdle without use (then log in again, e.g. with the
// JWT bearer flow of EnvLines).
func (s *Server) ClientLines(baseURL string) []string {
	baseURL = strings.TrimSuffix(baseURL, "/")
	version := fmt.Sprintf("%d.0", s.opts.MaxVersion)
	return []string{
		"# For other clients (a script, jsforce, curl); healthsync does not read these. A ready session",
		"# of the API user (it lapses after " + s.opts.SessionIdle.String() + " unused), e.g.:",
		`#   curl -H "Authorization: Bearer $EMULATOR_SALESFORCE_ACCESS_TOKEN" "$EMULATOR_SALESFORCE_INSTANCE_URL/services/data/v$EMULATOR_SALESFORCE_API_VERSION/limits"`,
		"EMULATOR_SALESFORCE_INSTANCE_URL=" + baseURL,
		"EMULATOR_SALESFORCE_API_VERSION=" + version,
		"EMULATOR_SALESFORCE_ACCESS_TOKEN=" + s.newSession(s.userID, ""),
	}
}

// OrgID is the emulated org's 15-character ID.
func (s *Server) OrgID() string { return s.orgID }

// UserID is the API user's ID.
func (s *Server) UserID() string { return s.userID }

// APICalls is the number of REST API calls served so far (OAuth calls and
// composite sub-requests are not counted, as in Salesforce).
func (s *Server) APICalls() int64 { return s.calls.Load() }

// GenID returns the ID LoadOrg or LoadGen gave the generator's record
// index of object: "User", "Account", "Contact", "Opportunity" or
// "Activity" (a Task or an Event). It is "" when there is none.
func (s *Server) GenID(object string, index int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.genIDs[object]
	if index < 0 || index >= len(ids) {
		return ""
	}
	return ids[index]
}

// Record returns the field values of a record (deleted ones included) by
// API name: strings, float64, bool, time.Time or nil.
func (s *Server) Record(object, id string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.db.lookup(id)
	if r == nil || !strings.EqualFold(r.t.obj.name, object) {
		return nil, false
	}
	return fieldsOf(r), true
}

func fieldsOf(r *record) map[string]any {
	out := make(map[string]any, len(r.t.obj.fields))
	for i, f := range r.t.obj.fields {
		out[f.name] = r.get(i)
	}
	return out
}

// IDs lists the IDs of object's records in (SystemModstamp, Id) order;
// deleted ones only when includeDeleted.
func (s *Server) IDs(object string, includeDeleted bool) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.db.table(object)
	if t == nil {
		return nil
	}
	var out []string
	t.scan(-1<<63, func(r *record) bool {
		if includeDeleted || !r.deleted {
			out = append(out, r.id)
		}
		return true
	})
	return out
}

// Count returns the number of live records of object.
func (s *Server) Count(object string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.db.table(object)
	if t == nil {
		return 0
	}
	n := 0
	for _, r := range t.byID {
		if !r.deleted {
			n++
		}
	}
	return n
}

// CreatedTasks returns the Tasks created through the API (not loaded), in
// creation order, with their current field values.
func (s *Server) CreatedTasks() []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []map[string]any
	for _, id := range s.created["Task"] {
		if r := s.db.byID[id]; r != nil {
			out = append(out, fieldsOf(r))
		}
	}
	return out
}

// SetField changes one field of a record as a user editing it in the UI
// would: the value is validated and SystemModstamp moves to now. Tests use
// it to make changes an incremental sync must pick up.
func (s *Server) SetField(object, id, field string, value any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.updateRecord(s.userID, object, id, map[string]any{field: value}, false); e != nil {
		return fmt.Errorf("set %s.%s on %s: %s: %s", object, field, id, e.err.ErrorCode, e.err.Message)
	}
	return nil
}

// Delete moves a record to the recycle bin as a user would.
func (s *Server) Delete(object, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.deleteRecord(s.userID, object, id); e != nil {
		return fmt.Errorf("delete %s %s: %s: %s", object, id, e.err.ErrorCode, e.err.Message)
	}
	return nil
}

// Objects lists the object names of the REST API.
func (s *Server) Objects() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, o := range s.db.schema {
		if !o.tooling && s.db.historyOn(o) {
			out = append(out, o.name)
		}
	}
	sort.Strings(out)
	return out
}

// Purge hard-deletes a record, as when the recycle bin is emptied or the
// deletion is older than the deleted/ window: it vanishes from query,
// queryAll and deleted/, so only an ID-set comparison finds it.
func (s *Server) Purge(object, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.db.table(object)
	if t == nil {
		return fmt.Errorf("purge %s %s: unknown object", object, id)
	}
	r := t.byID[id]
	if r == nil {
		return fmt.Errorf("purge %s %s: no such record", object, id)
	}
	delete(t.byID, id)
	delete(s.db.byID, id)
	r.ver++ // its index entry goes stale
	t.stale++
	return nil
}
