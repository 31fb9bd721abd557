package config

import (
	"fmt"
	"time"
)

var retentionSettings = []Setting{
	{Name: "retention-interval", Usage: "how often retention policies run, e.g. 24h (0: only when run by hand)", Def: "24h",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || (d > 0 && d < time.Minute) {
				return fmt.Errorf("retention-interval must be 0 or a duration of a minute or more such as 24h, not %q", v)
			}
			c.RetentionInterval = d
			return nil
		}},
}

func init() { ServeSettings = append(ServeSettings, retentionSettings...) }
