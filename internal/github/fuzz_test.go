package github

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "-1", "Tue, 10 Mar 2026 12:00:20 GMT", "", "soon", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, testStart)
		if ok && d < time.Second {
			t.Fatalf("parseRetryAfter(%q) = %v: a wait is at least a second", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false", s, d)
		}
	})
}

func FuzzFullRef(f *testing.F) {
	for _, s := range []string{"refs/heads/main", "heads/x", "tags/v1.2.3", "refs/tags/", "main", "heads/../x", "refs/refs/heads/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := fullRef(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(r, "refs/heads/") && !strings.HasPrefix(r, "refs/tags/") {
			t.Fatalf("fullRef(%q) = %q", s, r)
		}
		if strings.Contains(r, "..") || len(r) <= len("refs/tags/") {
			t.Fatalf("fullRef(%q) = %q", s, r)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	f.Add("0", "1000", "1773147600", "core")
	f.Add("x", "", "-1", "")
	f.Fuzz(func(t *testing.T, rem, limit, reset, resource string) {
		h := map[string][]string{"X-Ratelimit-Remaining": {rem}, "X-Ratelimit-Limit": {limit}, "X-Ratelimit-Reset": {reset}, "X-Ratelimit-Resource": {resource}}
		rl, ok := parseRate(h)
		if ok != (rem != "") {
			t.Fatalf("ok=%v for remaining %q", ok, rem)
		}
		if ok && rl.Low != (rl.Remaining <= rateReserve) {
			t.Fatalf("Low=%v with remaining %d", rl.Low, rl.Remaining)
		}
	})
}
