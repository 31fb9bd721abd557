package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/storage"
)

const (
	// minSegment is S3's smallest multipart part but the last.
	minSegment = 5 << 20
	// partSize is the size of the two buffers an in-flight segment write
	// holds (one uploading, one filling): the only memory an upload costs,
	// whatever the layer's size.
	partSize = 8 << 20
	// copyPiece is the largest part of the server-side copy that commits
	// a blob (S3 allows 5 GiB); copyParallel of them are copied at once.
	copyPiece    = 32 << 20
	copyParallel = 8
)

// Config names the bucket and how to reach it.
type Config struct {
	Endpoint  string // host:port
	Bucket    string
	Prefix    string // key prefix inside the bucket, e.g. "wharf/"
	Region    string
	AccessKey string
	SecretKey string
	Secure    bool // HTTPS to the endpoint
	// CreateBucket makes the bucket when it does not exist.
	CreateBucket bool
	// RedirectTTL, when above zero, lets blob GETs redirect to presigned
	// URLs valid this long, so bytes flow from the store to the client.
	RedirectTTL time.Duration
}

// Driver stores blobs in one bucket.
type Driver struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string
	ttl    time.Duration
}

var _ storage.Driver = (*Driver)(nil)

// New connects to the store and checks the bucket.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3 store: endpoint and bucket are required")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	d := &Driver{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix, ttl: cfg.RedirectTTL}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 store: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("s3 store: bucket %s does not exist", cfg.Bucket)
		}
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3 store: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return d, nil
}

func (d *Driver) blobKey(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", err
	}
	hex := dgst.Encoded()
	return d.prefix + "blobs/" + string(dgst.Algorithm()) + "/" + hex[:2] + "/" + hex, nil
}

func (d *Driver) uploadPrefix(id string) (string, error) {
	if !storage.ValidUploadID(id) {
		return "", fmt.Errorf("invalid upload id %q", id)
	}
	return d.prefix + "uploads/" + id + "/", nil
}

func segmentKey(prefix string, start int64) string {
	return fmt.Sprintf("%s%020d", prefix, start)
}

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchUpload", "NotFound":
		return true
	}
	return false
}

func notFound(err error) error {
	if isNotFound(err) {
		return storage.ErrNotFound
	}
	return err
}

// Ping implements storage.Pinger.
func (d *Driver) Ping(ctx context.Context) error {
	_, err := d.client.BucketExists(ctx, d.bucket)
	return err
}
