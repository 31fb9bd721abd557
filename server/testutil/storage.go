package testutil

import (
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/wharfhub/wharf/server/config"
)

// Storage points cfg at a fresh prefix of a bucket on the MinIO that
// scripts/minio.sh starts, when WHARF_TEST_S3_ENDPOINT names one; otherwise
// cfg keeps the filesystem store in its data dir.
func Storage(t testing.TB, cfg *config.Config) {
	t.Helper()
	endpoint := os.Getenv("WHARF_TEST_S3_ENDPOINT")
	if endpoint == "" {
		return
	}
	cfg.Storage = "s3"
	cfg.S3 = config.S3{
		Endpoint: endpoint, Bucket: "wharf-test", Prefix: "t/" + uuid.NewString(),
		AccessKey: os.Getenv("WHARF_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("WHARF_TEST_S3_SECRET_KEY"),
	}
}
