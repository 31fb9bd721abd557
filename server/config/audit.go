package config

import (
	"fmt"
	"time"
)

var auditSettings = []Setting{
	{Name: "audit-retention", Usage: "how long audit log entries are kept, e.g. 8760h (0: forever)", Def: "8760h",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || (d > 0 && d < time.Hour) {
				return fmt.Errorf("audit-retention must be 0 or a duration of an hour or more such as 8760h, not %q", v)
			}
			c.AuditRetention = d
			return nil
		}},
}

func init() { ServeSettings = append(ServeSettings, auditSettings...) }
