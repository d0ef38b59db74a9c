package monitor

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/smoke"
)

// restartSlack is how much younger than expected the gateway may look before the
// monitor calls it a restart: the uptime is read when a probe's hello-ok arrives, some
// seconds after the check started (readiness check, a probe timing out first). A
// restart within restartSlack after the previous check, of a gateway that was itself
// younger than restartSlack then, can go unseen by uptime alone.
const restartSlack = 15 * time.Second

// closeServiceRestart is how smoke details name a WebSocket close 1012 ("the gateway
// closed the connection (1012 StatusServiceRestart, reason ...)").
const closeServiceRestart = "(1012 "

// probeReading is a probe's signal: ok when it passed, bad when it failed (a gateway
// that did not come up fails every probe), no data when it did not run at all.
func probeReading(rep *smoke.Report, probe string) Reading {
	if rep == nil {
		return Reading{Status: StatusNoData, Detail: "the smoke probes did not run"}
	}
	for _, p := range rep.Probes {
		if p.Name != probe {
			continue
		}
		v := p.Latency.Seconds()
		switch {
		case p.OK:
			return Reading{Status: StatusOK, Value: &v}
		case p.Attempts == 0 && rep.Ready:
			return Reading{Status: StatusNoData, Detail: p.Detail}
		default:
			return Reading{Status: StatusBad, Value: &v, Detail: p.Detail}
		}
	}
	return Reading{Status: StatusNoData, Detail: fmt.Sprintf("the smoke report has no %s probe", probe)}
}

// restartReading decides whether the gateway restarted since the previous check: its
// uptime went down, or it is younger than the time since the previous check allows
// (a restart loop keeps the uptime low, so a plain "went down" misses half its restarts),
// or a probe saw a restart during this check (Server.Restarted, a close 1012). Without a
// hello-ok in this check and no close 1012 there is no data.
func (mon *monitor) restartReading(rep *smoke.Report, at time.Time) Reading {
	if rep == nil {
		return Reading{Status: StatusNoData, Detail: "the smoke probes did not run"}
	}
	closed := ""
	for _, p := range rep.Probes {
		if strings.Contains(p.Detail, closeServiceRestart) {
			closed = p.Name
			break
		}
	}
	haveHello := rep.Server.ConnID != "" || rep.Server.Version != "" || rep.Server.UptimeMs > 0
	if !haveHello {
		if closed != "" {
			return Reading{Status: StatusBad, Detail: fmt.Sprintf("the %s probe's connection was closed with 1012 service restart: the gateway is restarting", closed)}
		}
		return Reading{Status: StatusNoData, Detail: "no probe got a hello-ok this check, so the gateway's uptime is unknown"}
	}
	up := time.Duration(rep.Server.UptimeMs) * time.Millisecond
	v := up.Seconds()
	rd := Reading{Status: StatusOK, Value: &v}
	prev := mon.lastUp
	mon.lastUp = &uptimeSeen{at: at, uptime: up}
	var why []string
	if prev != nil {
		elapsed := at.Sub(prev.at)
		switch {
		case up < prev.uptime:
			why = append(why, fmt.Sprintf("its uptime went down from %s to %s since the previous check", short(prev.uptime), short(up)))
		case up+restartSlack < prev.uptime+elapsed:
			why = append(why, fmt.Sprintf("its uptime is %s, but it was %s at the previous check %s ago: it started again in between",
				short(up), short(prev.uptime), short(elapsed)))
		}
	}
	if rep.Server.Restarted {
		why = append(why, "a probe saw its uptime go down during this check")
	}
	if closed != "" {
		why = append(why, fmt.Sprintf("the %s probe's connection was closed with 1012 service restart", closed))
	}
	if len(why) > 0 {
		rd.Status = StatusBad
		rd.Detail = "the gateway restarted: " + strings.Join(why, "; ")
	}
	return rd
}
