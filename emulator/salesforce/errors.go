package salesforce

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is one entry of Salesforce's error array. In sObject
// collection results the code goes under "statusCode" instead.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// collectionError is an error inside a composite/sobjects result.
type collectionError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func errOf(code, msg string, fields ...string) apiError {
	return apiError{ErrorCode: code, Message: msg, Fields: fields}
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`[{"message":"An unexpected error occurred. Please include this ErrorId if you contact support: emulator","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErrors writes Salesforce's error array.
func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	for i := range errs {
		if errs[i].Fields == nil && status != http.StatusUnauthorized && status != http.StatusNotFound && status != http.StatusForbidden {
			errs[i].Fields = nil
		}
	}
	writeJSON(w, status, errs)
}

func writeError(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	writeErrors(w, status, errOf(code, msg, fields...))
}

// oauthError is the single-object error body of the OAuth endpoints.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

var (
	errNotFound       = errOf("NOT_FOUND", "The requested resource does not exist")
	errSessionInvalid = errOf("INVALID_SESSION_ID", "Session expired or invalid")
)
