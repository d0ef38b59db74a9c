package gate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/github"
)

// TestOneDeadlinePerSentence: a gate that times out while waiting for evidence to appear
// names the timeout, not also the appearance grace it did not reach.
func TestOneDeadlinePerSentence(t *testing.T) {
	f := newFake(t)
	f.snap = static()
	o, _ := f.opts(gateCheck)
	o.Policy.Timeout = config.Duration(2 * time.Minute)
	o.Policy.AppearTimeout = config.Duration(5 * time.Minute)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, "timed out after 2m0s waiting for a check run named 'check' in workflow 'CI' (.github/workflows/ci.yml) to appear", res.Gates[0].Reason)
}

// TestIgnoredAreListed: what carries a gate's name but does not count is listed with why.
func TestIgnoredAreListed(t *testing.T) {
	other := cr(601, "check", "CI", 300, "completed", "success")
	other.WorkflowID, other.WorkflowPath = 41, ".github/workflows/ci-lint.yml"
	app := github.CheckContext{Kind: github.KindCheckRun, ID: 700, Name: "check", Status: "completed", Conclusion: "success"}
	f := newFake(t)
	f.snap = static(cr(101, "check", "CI", 100, "completed", "failure"), other, app, status("check", "success"))
	o, _ := f.opts(gateCheck)
	res, err := Run(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, []Ignored{
		{Name: "check", Kind: "check_run", Workflow: "CI", WorkflowPath: ".github/workflows/ci-lint.yml", RunID: 300, Conclusion: "success",
			URL: "https://github.example/o/r/actions/runs/300/job/601", Reason: "from workflow file .github/workflows/ci-lint.yml, not .github/workflows/ci.yml"},
		{Name: "check", Kind: "check_run", Conclusion: "success", Reason: "a check run of another app, not of a workflow run; the gate reads .github/workflows/ci.yml only"},
		{Name: "check", Kind: "status", Conclusion: "success", URL: "https://ci.example/check", Reason: "a commit status; the gate reads check runs of .github/workflows/ci.yml only"},
	}, res.Gates[0].Ignored)
	assert.Equal(t, ".github/workflows/ci.yml", res.Gates[0].WorkflowFile)
}
