package hubspot_test

import (
	"healthsync/connector"
)

type pageT = connector.Page

func pullReq(object string, fields []string, since connector.Cursor) connector.PullRequest {
	return connector.PullRequest{Object: object, Fields: fields, Since: since}
}
