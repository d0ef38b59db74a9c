package ghemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// DeploymentSpec is a Deployment record with its statuses, as a deploy tool (such as
// release-action, whose payload names the run that made the record) writes it.
type DeploymentSpec struct {
	Environment, SHA, Ref string
	Description           string
	// Payload is marshalled to JSON (nil: {}).
	Payload    any
	Production bool
	Statuses   []DeploymentStatusSpec
}

// DeploymentStatusSpec is one status of a DeploymentSpec.
type DeploymentStatusSpec struct {
	State, Description, LogURL string
}

// AddDeploymentRecord records a deployment now, with its statuses in order, and returns its id.
func (s *Server) AddDeploymentRecord(d DeploymentSpec) int64 {
	mustSHA(d.SHA)
	payload := json.RawMessage("{}")
	if d.Payload != nil {
		b, err := json.Marshal(d.Payload)
		if err != nil {
			panic(fmt.Sprintf("ghemu: AddDeploymentRecord: payload: %v", err))
		}
		payload = b
	}
	for _, st := range d.Statuses {
		if !slices.Contains(deploymentStates, st.State) {
			panic(fmt.Sprintf("ghemu: AddDeploymentRecord: bad state %q", st.State))
		}
	}
	w, now, unlock := s.lock()
	defer unlock()
	w.addCommit(d.SHA, now)
	at := now.Truncate(time.Second)
	rec := &deploymentState{id: w.newID(idDeployment), sha: d.SHA, ref: d.Ref, task: "deploy", environment: d.Environment,
		originalEnvironment: d.Environment, description: d.Description, payload: payload, production: d.Production,
		createdAt: at, updatedAt: at}
	for _, st := range d.Statuses {
		rec.statuses = append(rec.statuses, &deploymentStatusState{id: w.newID(idDeploymentStatus), state: st.State,
			description: st.Description, logURL: st.LogURL, environment: d.Environment, autoInactive: true, createdAt: at})
	}
	w.deployments = append(w.deployments, rec)
	return rec.id
}

// RunHTMLURL is the page of a run on the started server (Start).
func (s *Server) RunHTMLURL(runID int64) string {
	return fmt.Sprintf("%s/%s/%s/actions/runs/%d", s.Start(), s.opts.Owner, s.opts.Repo, runID)
}

// AddDeploymentStatus adds a status to a deployment now, as its deployer would.
func (s *Server) AddDeploymentStatus(id int64, state, description string) {
	if !slices.Contains(deploymentStates, state) {
		panic(fmt.Sprintf("ghemu: AddDeploymentStatus: bad state %q", state))
	}
	w, now, unlock := s.lock()
	defer unlock()
	for _, d := range w.deployments {
		if d.id == id {
			d.statuses = append(d.statuses, &deploymentStatusState{id: w.newID(idDeploymentStatus), state: state,
				description: description, environment: d.environment, autoInactive: true, createdAt: now.Truncate(time.Second)})
			d.updatedAt = now.Truncate(time.Second)
			return
		}
	}
	panic(fmt.Sprintf("ghemu: AddDeploymentStatus: no deployment %d", id))
}
