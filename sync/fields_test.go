package sync_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"healthsync/connector"
	"healthsync/store"
	"healthsync/store/storetest"
)

// TestDecodedFieldsMapLikeRaw: every record the Salesforce connector
// pulls from the emulated org maps to the same entity (and the same
// problems) from the fields it decoded as from its raw JSON, which is
// what is stored and what a remap reads.
func TestDecodedFieldsMapLikeRaw(t *testing.T) {
	t.Parallel()
	r := salesforceRig(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key})
	ctx := context.Background()
	n, withFields := 0, 0
	for _, obj := range r.m.Objects() {
		req := connector.PullRequest{Object: obj, Fields: r.m.Fields(obj)}
		err := r.src.Pull(ctx, req, func(_ context.Context, p connector.Page) error {
			for _, rec := range p.Records {
				if rec.Object == "" {
					rec.Object = obj
				}
				n++
				if rec.Fields != nil {
					withFields++
				}
				got, gotErr := r.m.Map(rec)
				rec.Fields = nil
				want, wantErr := r.m.Map(rec)
				if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
					t.Errorf("%s %s: from fields %+v, %v; from raw %+v, %v", obj, rec.ID, got, gotErr, want, wantErr)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 || withFields < n/2 {
		t.Fatalf("%d records, %d with decoded fields: the test compared nothing", n, withFields)
	}
}
