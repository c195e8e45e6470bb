// Package oauth gets and keeps the OAuth tokens of one CRM connection,
// generically: the connectors pass the endpoints and names.
//
//   - [Login] runs the authorization-code flow with PKCE (S256) and state
//     through a loopback callback on 127.0.0.1: it prints the authorize URL
//     (and tries to open a browser), waits for the redirect and exchanges
//     the code. A request to the callback without this login's state is
//     answered with an error page and ignored: only the login's own
//     redirect (its code, or the CRM's refusal) ends the wait.
//   - [Source] is the token of a connection at run time: loaded from a
//     [TokenStore] (which encrypts it), refreshed ahead of expiry or when
//     the CRM rejects it (one refresh in flight for all goroutines), and
//     saved again at once so a rotated refresh token is never lost. It
//     implements connector.Authorizer and oauth2.TokenSource.
//   - A [Grant] is how a Source gets a new token: [Config.RefreshGrant]
//     (refresh_token) or [JWTBearer] (Salesforce's unattended flow, a fresh
//     RS256 assertion each time).
//
// Tokens never appear in errors or logs: [Token] prints redacted, and error
// bodies of the token endpoint are scrubbed of the secrets sent.
package oauth
