package ghemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/ghemu"
)

// A passing push of Agent Me, watched from the REST API while a virtual clock moves.
func Example() {
	clk := clock.NewVirtual(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	s := ghemu.New(ghemu.Options{Clock: clk})
	base := s.Start()
	defer s.Close()

	const sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	s.LoadAgentMe(sha)
	_, sec := s.AgentMePush(sha)

	hardening := func() string {
		res, err := http.Get(fmt.Sprintf("%s/api/v3/repos/agentme/agentme/actions/jobs/%d", base, sec.JobIDs[0]))
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		var j struct{ Status, Conclusion string }
		_ = json.NewDecoder(res.Body).Decode(&j)
		return strings.TrimSpace(j.Status + " " + j.Conclusion)
	}
	fmt.Println(hardening())
	clk.Advance(time.Minute)
	fmt.Println(hardening())
	clk.Advance(time.Hour)
	fmt.Println(hardening())
	// Output:
	// queued
	// in_progress
	// completed success
}
