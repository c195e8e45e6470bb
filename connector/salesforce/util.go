package salesforce

import (
	"errors"

	"healthsync/connector"
)

func asAPIError(err error, target **connector.APIError) bool { return errors.As(err, target) }
