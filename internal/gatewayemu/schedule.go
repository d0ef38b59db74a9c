package gatewayemu

import (
	"sync"
	"time"
)

// scheduled is an action At runs once the clock reaches its time.
type scheduled struct {
	at time.Time
	fn func(*Server)
}

// schedule holds the actions At registered; it has its own lock because the actions
// call the Server's setters, which take s.mu.
type schedule struct {
	mu      sync.Mutex
	pending []scheduled
}

// At makes fn run once, just before the first request the gateway handles at or after
// time t on its Clock. With a clock.Virtual this breaks (or heals) a gateway at an exact
// point of a scenario — "the channel stops answering ten minutes after the deploy" —
// without a goroutine racing the code under test.
func (s *Server) At(t time.Time, fn func(*Server)) {
	s.sched.mu.Lock()
	s.sched.pending = append(s.sched.pending, scheduled{at: t, fn: fn})
	s.sched.mu.Unlock()
}

// runDue runs the actions whose time has come, in registration order.
func (s *Server) runDue() {
	now := s.clock.Now()
	s.sched.mu.Lock()
	var due []scheduled
	keep := s.sched.pending[:0]
	for _, a := range s.sched.pending {
		if !now.Before(a.at) {
			due = append(due, a)
		} else {
			keep = append(keep, a)
		}
	}
	s.sched.pending = keep
	s.sched.mu.Unlock()
	for _, a := range due {
		a.fn(s)
	}
}
