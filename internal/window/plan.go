package window

import "time"

// WouldWait reports whether Wait, called at now with maxWait, would sleep for the window
// instead of returning d: closed, with a next opening no more than maxWait away. A dry run
// asks it to say "waits until ..." or "scheduled" exactly as the real run would decide.
func WouldWait(d Decision, now time.Time, maxWait time.Duration) bool {
	return !d.Open && !d.NextOpen.IsZero() && !d.NextOpen.After(now.Add(maxWait))
}
