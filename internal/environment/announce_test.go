package environment

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/outcome"
	"github.com/agentme/release-action/internal/rollback"
)

// TestRollbackTextEscapesSlack: text from GitHub or the operator cannot ping a channel or
// forge a link in Slack (its control characters are &, < and >).
func TestRollbackTextEscapesSlack(t *testing.T) {
	got := rollbackText("agentme/agentme", &rollback.Result{
		Verdict: outcome.Fail, Environment: "production", Reason: "tag <!channel> & <https://evil.example|click>",
		RollbackReason: "<@U123> broke it", LeftState: "still runs x>y",
	})
	assert.NotContains(t, got, "<!channel>")
	assert.NotContains(t, got, "<https://evil")
	assert.NotContains(t, got, "<@U123>")
	assert.Contains(t, got, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;")
	assert.Contains(t, got, ":x: *Rollback of production (agentme/agentme): fail*")
}
