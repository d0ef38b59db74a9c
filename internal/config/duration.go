package config

import (
	"fmt"
	"strings"
	"time"
)

// String writes the duration as Go duration text without zero tails: "45m", "1h30m",
// "1m30s", "0s". time.ParseDuration reads every form back.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText makes YAML and JSON encoders write the duration as text ("45m").
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads Go duration text ("45m", "1h30m"). It lets JSON and the goccy YAML
// decoder fill a Duration; Parse reads durations itself to report positions.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%s is not a duration; write it like 45m, 1h30m or 90s", quote(string(b)))
	}
	*d = Duration(v)
	return nil
}
