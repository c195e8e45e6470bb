// Package connector holds what every CRM connector shares: the raw
// [Record] as received, the incremental [Cursor], the typed [*APIError],
// and the HTTP stack (an oauth2 transport over go-retryablehttp with rate
// limiting and an API budget). It knows no specific CRM; the Salesforce and
// HubSpot connectors live in its subpackages.
package connector
