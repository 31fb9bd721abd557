package config

import (
	"fmt"
	"time"
)

// S3 is the S3-compatible object store that replicas share.
type S3 struct {
	Endpoint  string
	Bucket    string
	Prefix    string
	Region    string
	AccessKey string
	SecretKey string
	TLS       bool
	// Redirect, above zero, sends blob downloads to presigned store URLs
	// valid this long instead of through Wharf.
	Redirect time.Duration
}

func boolSetting(name string, p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch v {
		case "true", "1", "yes":
			*p(c) = true
		case "false", "0", "no":
			*p(c) = false
		default:
			return fmt.Errorf("%s must be true or false, not %q", name, v)
		}
		return nil
	}
}

var storageSettings = []Setting{
	{Name: "storage", Usage: "blob store: filesystem (in the data dir) or s3 (see the s3-* settings)", Def: "filesystem",
		set: func(c *Config, v string) error {
			if v != "filesystem" && v != "s3" {
				return fmt.Errorf("storage must be filesystem or s3, not %q", v)
			}
			c.Storage = v
			return nil
		}},
	{Name: "s3-endpoint", Usage: "S3 endpoint host:port, e.g. s3.amazonaws.com or 127.0.0.1:9000", Def: "",
		set: str(func(c *Config) *string { return &c.S3.Endpoint })},
	{Name: "s3-bucket", Usage: "S3 bucket (created if missing)", Def: "",
		set: str(func(c *Config) *string { return &c.S3.Bucket })},
	{Name: "s3-prefix", Usage: "key prefix inside the S3 bucket", Def: "",
		set: str(func(c *Config) *string { return &c.S3.Prefix })},
	{Name: "s3-region", Usage: "S3 region", Def: "us-east-1",
		set: str(func(c *Config) *string { return &c.S3.Region })},
	{Name: "s3-access-key", Usage: "S3 access key id", Def: "",
		set: str(func(c *Config) *string { return &c.S3.AccessKey })},
	{Name: "s3-secret-key", Usage: "S3 secret key (prefer the environment variable)", Def: "",
		set: str(func(c *Config) *string { return &c.S3.SecretKey })},
	{Name: "s3-tls", Usage: "use HTTPS to the S3 endpoint: true or false", Def: "true",
		set: boolSetting("s3-tls", func(c *Config) *bool { return &c.S3.TLS })},
	{Name: "s3-redirect", Usage: "redirect blob downloads to presigned S3 URLs valid this long, e.g. 20m (0: serve through Wharf)", Def: "0",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 7*24*time.Hour {
				return fmt.Errorf("s3-redirect must be 0 or a duration up to 168h, not %q", v)
			}
			c.S3.Redirect = d
			return nil
		}},
}

func init() {
	ServeSettings = append(append(append(append(ServeSettings, storageSettings...), tlsSettings...), mirrorSettings...), scannerSettings...)
}
