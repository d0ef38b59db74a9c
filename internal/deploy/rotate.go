package deploy

import (
	"context"
	"strings"

	"github.com/agentme/release-action/internal/untrusted"
)

// TaskRotate is the task of the Deployment record a credential rotation makes to restart
// the environment on the commit it runs. LastKnownGood ignores the verdicts of these
// records: a failed rotation says the credentials are wrong, not that the commit is bad.
const TaskRotate = "deploy:rotate"

// textRotationFailed is the description of a rotation restart whose verification failed.
const textRotationFailed = "rotation failed"

// MarkRotationFailed adds failure "rotation failed: <detail>" to a rotation's deployment
// whose restart or verification failed.
func MarkRotationFailed(ctx context.Context, gh GitHub, deploymentID int64, detail, logURL string) error {
	t := textRotationFailed
	if d := strings.TrimSpace(untrusted.Clean(detail)); d != "" {
		t += ": " + d
	}
	return mark(ctx, gh, deploymentID, "failure", t, "", logURL)
}
