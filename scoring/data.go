package scoring

import (
	"time"

	"healthsync/crm"
)

// AccountData is everything the scorer reads about one account. The store
// streams one bundle at a time, so memory is bounded by the largest account.
// Contacts deleted in the CRM are simply absent; activities that link only
// to absent contacts still count for the account but not for any contact.
type AccountData struct {
	Account       crm.Account
	Contacts      []crm.Contact
	Opportunities []crm.Opportunity
	Activities    []crm.Activity
	// Owner is the account owner, when known; explain shows the name.
	Owner *crm.User
}

// ScorePoint is one stored score: the history the trend and the backtest read.
type ScorePoint struct {
	At    time.Time `json:"at"`
	Score float64   `json:"score"`
}
