package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error categories HubSpot puts in its error envelope.
const (
	catValidation    = "VALIDATION_ERROR"
	catNotFound      = "OBJECT_NOT_FOUND"
	catInvalidAuth   = "INVALID_AUTHENTICATION"
	catExpiredAuth   = "EXPIRED_AUTHENTICATION"
	catMissingScopes = "MISSING_SCOPES"
	catConflict      = "OBJECT_ALREADY_EXISTS"
	catRateLimits    = "RATE_LIMITS"
	catInternal      = "INTERNAL_ERROR"
)

// Sentinel errors of the in-process API.
var (
	// ErrUnknownObjectType means the named object type is not one the
	// emulator serves.
	ErrUnknownObjectType = errors.New("unknown HubSpot object type")
	// ErrNotFound means no record has the given id.
	ErrNotFound = errors.New("record not found")
)

// apiError is an error answer in HubSpot's envelope.
type apiError struct {
	status   int
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	CorrID   string         `json:"correlationId"`
	Category string         `json:"category"`
	SubCat   string         `json:"subCategory,omitempty"`
	Errors   []errorDetail  `json:"errors,omitempty"`
	Context  map[string]any `json:"context,omitempty"`
	Links    map[string]any `json:"links,omitempty"`
}

// errorDetail is one entry of the envelope's errors array.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.Category, e.Message) }

func newAPIError(status int, category, format string, args ...any) *apiError {
	return &apiError{status: status, Status: "error", Category: category, Message: fmt.Sprintf(format, args...)}
}

func validationError(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, catValidation, format, args...)
}

// propertyError is one invalid property value, reported the way HubSpot's
// CRM v3 objects API reports them: a JSON list inside the message.
type propertyError struct {
	IsValid   bool   `json:"isValid"`
	Message   string `json:"message"`
	Error     string `json:"error"`
	Name      string `json:"name"`
	Localized string `json:"localizedErrorMessage"`
}

func propertyValidationError(errs []propertyError) *apiError {
	raw, _ := json.Marshal(errs)
	e := validationError("Property values were not valid: %s", raw)
	for _, pe := range errs {
		e.Errors = append(e.Errors, errorDetail{
			Message: pe.Message, Code: pe.Error,
			Context: map[string][]string{"propertyName": {pe.Name}},
		})
	}
	return e
}

func missingScopesError(scopes []string) *apiError {
	e := newAPIError(http.StatusForbidden, catMissingScopes,
		"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.")
	e.Errors = []errorDetail{{
		Message: "One or more of the following scopes are required.",
		Context: map[string][]string{"requiredGranularScopes": scopes},
	}}
	e.Links = map[string]any{"scopes": "https://developers.hubspot.com/scopes"}
	return e
}

func notFoundError(t *objectType, id string) *apiError {
	return newAPIError(http.StatusNotFound, catNotFound, "Object not found.  objectId are usually numeric.")
}

func unknownTypeError(name string) *apiError {
	return newAPIError(http.StatusBadRequest, catNotFound, "Unable to infer object type from: %s", name)
}

// writeJSON writes v as a JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes e in HubSpot's envelope, stamping a correlation id.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	e.CorrID = s.correlationID()
	writeJSON(w, e.status, e)
}

// decodeJSON reads a JSON request body into v, turning syntax and shape
// errors into HubSpot's 400 answer.
func decodeJSON(r *http.Request, v any) *apiError {
	body := http.MaxBytesReader(nil, r.Body, 16<<20)
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return validationError("Invalid input JSON at offset %d: %s", syn.Offset, syn.Error())
		case errors.As(err, &typ):
			return validationError("Invalid input JSON: field %q must be %s, got %s", typ.Field, typ.Type, typ.Value)
		case err.Error() == "EOF":
			return validationError("Invalid input JSON: the request body is empty")
		}
		return validationError("Invalid input JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
