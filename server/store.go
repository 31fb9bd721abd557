package server

import (
	"context"
	"errors"
	"time"

	"github.com/wharfhub/wharf/server/config"
	"github.com/wharfhub/wharf/server/storage"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/storage/s3"
)

// openStore opens the configured blob store.
func openStore(ctx context.Context, cfg *config.Config) (storage.Driver, error) {
	if cfg.Storage != "s3" {
		return filesystem.New(cfg.DataDir)
	}
	if cfg.S3.Endpoint == "" || cfg.S3.Bucket == "" {
		return nil, errors.New("storage s3 needs s3-endpoint and s3-bucket")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s3.New(ctx, s3.Config{
		Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Prefix: cfg.S3.Prefix, Region: cfg.S3.Region,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, Secure: cfg.S3.TLS,
		CreateBucket: true, RedirectTTL: cfg.S3.Redirect,
	})
}
