package connector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"healthsync/connector"
)

func TestIsStop(t *testing.T) {
	t.Parallel()
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	wrap := func(err error) error { return fmt.Errorf("update Account: %w", err) }
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"no error", live, nil, false},
		{"budget", live, wrap(connector.ErrBudgetExhausted), true},
		{"daily limit", live, wrap(fmt.Errorf("%w: %w", connector.ErrDailyLimit, &connector.APIError{Status: 429, Code: "DAILY"})), true},
		{"reauthorize", live, wrap(connector.ErrReauthorize), true},
		{"timeout", live, wrap(connector.ErrTimeout), true},
		{"canceled", live, wrap(context.Canceled), true},
		{"deadline", live, wrap(context.DeadlineExceeded), true},
		{"context ended, any error", ended, errors.New("connection reset"), true},
		{"context ended, no error", ended, nil, true},
		{"401 after the refresh", live, wrap(&connector.APIError{Status: http.StatusUnauthorized, Code: "INVALID_SESSION_ID"}), true},
		{"validation", live, wrap(&connector.APIError{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR"}), false},
		{"server error", live, wrap(&connector.APIError{Status: http.StatusBadGateway, Code: connector.CodeMalformedResponse}), false},
		{"not found", live, wrap(&connector.APIError{Status: http.StatusNotFound, Code: "NOT_FOUND"}), false},
		{"network", live, wrap(errors.New("connection reset by peer")), false},
		{"paging loop", live, wrap(connector.ErrPagingLoop), false},
	}
	for _, tc := range cases {
		if got := connector.IsStop(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: IsStop(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
