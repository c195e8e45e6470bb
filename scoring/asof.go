package scoring

import (
	"time"

	"healthsync/crm"
)

// AsOf returns an account's data as it was at t: the account's and its
// opportunities' history fields hold the values they had then (from h,
// the stored field history), so a past score reads no value that only
// came later. Contacts and activities are replayed by their own dates by
// Score. A field whose history starts after t is left empty: unknown then.
func AsOf(d AccountData, h crm.History, t time.Time) AccountData {
	out := d
	out.Account = crm.AccountAsOf(d.Account, h, t)
	if len(d.Opportunities) > 0 {
		out.Opportunities = make([]crm.Opportunity, len(d.Opportunities))
		for i, o := range d.Opportunities {
			out.Opportunities[i] = crm.OpportunityAsOf(o, h, t)
		}
	}
	return out
}
