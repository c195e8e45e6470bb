package salesforce

import (
	"context"
	"errors"

	"healthsync/connector"
)

func asAPIError(err error, target **connector.APIError) bool { return errors.As(err, target) }

// isStop reports errors after which a run must stop rather than go on
// with the next record or batch (a CRM that does not answer in time would
// not answer the next batch either).
func isStop(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, connector.ErrBudgetExhausted) || errors.Is(err, connector.ErrDailyLimit) ||
		errors.Is(err, connector.ErrReauthorize) || errors.Is(err, connector.ErrTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
