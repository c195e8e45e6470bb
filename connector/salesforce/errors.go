package salesforce

import "errors"

var (
	// ErrMissingField means a field the mapping names does not exist in the
	// org (or the integration user cannot see it).
	ErrMissingField = errors.New("field not in the org")
	// ErrBulkJob means a Bulk API 2.0 job failed or was aborted.
	ErrBulkJob = errors.New("bulk API job failed")
	// ErrAPIVersion means the org does not offer the REST API version
	// HEALTHSYNC_SALESFORCE_API_VERSION names.
	ErrAPIVersion = errors.New("API version not offered by the org")
)
