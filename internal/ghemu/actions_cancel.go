package ghemu

import (
	"net/http"
	"time"
)

// Cancel timing. GitHub cancels asynchronously: the cancel answers 202 at once and the run
// completes some seconds later, when its runners have stopped the jobs.
const (
	// DefaultStopFor is how long a job takes to stop after a cancel (JobSpec.StopFor).
	DefaultStopFor = 4 * time.Second
	// ForceStopFor is how long any job takes to stop after a force-cancel.
	ForceStopFor = 2 * time.Second
)

// CancelRequest records one cancel or force-cancel the emulator received.
type CancelRequest struct {
	RunID int64
	Force bool
	// Status is the HTTP status answered: 202, or 409 for a run that had completed.
	Status int
	At     time.Time
}

// stopAt is when the job stops because of a cancel or force-cancel of its run (zero: not
// cancelled, or a cancel it ignores and no force-cancel).
func (c *checkRun) stopAt() time.Time {
	var at time.Time
	if !c.cancelAt.IsZero() {
		stop := c.spec.StopFor
		if stop <= 0 {
			stop = DefaultStopFor
		}
		// A job that ignores cancel still never starts once its run is cancelled.
		if !c.spec.IgnoresCancel || c.naturalView(c.cancelAt).status != "in_progress" {
			at = c.cancelAt.Add(stop)
		}
	}
	if !c.forceAt.IsZero() {
		if f := c.forceAt.Add(ForceStopFor); at.IsZero() || f.Before(at) {
			at = f
		}
	}
	return at
}

// view derives the state of c at now: its natural course, cut short by a cancel.
func (c *checkRun) view(now time.Time) crView {
	stop := c.stopAt()
	if stop.IsZero() || now.Before(stop) {
		return c.naturalView(now)
	}
	nv := c.naturalView(stop)
	if nv.status == "completed" {
		return c.naturalView(now) // it ended by itself before the cancel took effect
	}
	v := crView{status: "completed", conclusion: "cancelled", startedAt: nv.startedAt, completedAt: stop, updatedAt: stop}
	if v.startedAt.IsZero() {
		v.startedAt = stop
	}
	for _, sv := range nv.steps {
		switch sv.status {
		case "in_progress":
			sv.status, sv.conclusion, sv.completedAt = "completed", "cancelled", stop
		case "queued":
			sv.status, sv.conclusion, sv.startedAt, sv.completedAt = "completed", "skipped", stop, stop
		}
		v.steps = append(v.steps, sv)
	}
	return v
}

// stopped reports whether a cancel or force-cancel of the run's latest attempt arrived.
func (r *runState) stopped(now time.Time) bool {
	for _, j := range r.latestJobs() {
		if (!j.cancelAt.IsZero() && !j.cancelAt.After(now)) || (!j.forceAt.IsZero() && !j.forceAt.After(now)) {
			return true
		}
	}
	return false
}

func cancelRun(c *rc) reply      { return stopRun(c, false) }
func forceCancelRun(c *rc) reply { return stopRun(c, true) }

// stopRun answers a cancel or force-cancel as GitHub does: 202 with an empty object, or
// 409 when the run has completed.
func stopRun(c *rc, force bool) reply {
	r, rep, ok := c.runParam()
	if !ok {
		return rep
	}
	req := CancelRequest{RunID: r.id, Force: force, Status: http.StatusAccepted, At: c.now}
	defer func() { c.w.cancels = append(c.w.cancels, req) }()
	if st, _, _ := r.view(c.now); st == "completed" {
		req.Status = http.StatusConflict
		return errReply(http.StatusConflict, "Cannot cancel a workflow run that is completed.")
	}
	at := c.now.Truncate(time.Second)
	for _, j := range r.latestJobs() {
		if force && j.forceAt.IsZero() {
			j.forceAt = at
		}
		if !force && j.cancelAt.IsZero() {
			j.cancelAt = at
		}
	}
	return jsonReply(http.StatusAccepted, map[string]any{})
}

// Cancels returns the cancel and force-cancel requests received, in order.
func (s *Server) Cancels() []CancelRequest {
	w, _, unlock := s.lock()
	defer unlock()
	return append([]CancelRequest(nil), w.cancels...)
}

// RunStatus returns a run's status and conclusion now ("" when there is no such run).
func (s *Server) RunStatus(runID int64) (status, conclusion string) {
	w, now, unlock := s.lock()
	defer unlock()
	r := w.runByID(runID)
	if r == nil {
		return "", ""
	}
	status, conclusion, _ = r.view(now)
	return status, conclusion
}
