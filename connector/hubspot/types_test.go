package hubspot_test

import (
	"healthsync/connector"
	hsync "healthsync/sync"
)

type pageT = hsync.Page

func pullReq(object string, fields []string, since connector.Cursor) hsync.PullRequest {
	return hsync.PullRequest{Object: object, Fields: fields, Since: since}
}
