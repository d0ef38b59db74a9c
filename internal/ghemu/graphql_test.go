package ghemu_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentme/release-action/internal/ghemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotQuery is the rollup query of the client's Snapshot, written the way
// githubv4 serialises a Go struct (commas, no whitespace).
const snapshotQuery = `query($cursor:String$name:String!$owner:String!$sha:GitObjectID!){repository(owner: $owner, name: $name){object(oid: $sha){... on Commit{statusCheckRollup{state,contexts(first: 100, after: $cursor){totalCount,pageInfo{hasNextPage,endCursor},nodes{__typename,... on CheckRun{databaseId,name,status,conclusion,startedAt,completedAt,detailsUrl,checkSuite{databaseId,status,conclusion,workflowRun{databaseId,runNumber,event,url,workflow{name}}}},... on StatusContext{context,state,targetUrl,description,createdAt}}}}}}},rateLimit{cost,remaining,resetAt}}`

type rollupAnswer struct {
	Repository struct {
		Object *struct {
			StatusCheckRollup *struct {
				State    string `json:"state"`
				Contexts struct {
					TotalCount int `json:"totalCount"`
					PageInfo   struct {
						HasNextPage bool    `json:"hasNextPage"`
						EndCursor   *string `json:"endCursor"`
					} `json:"pageInfo"`
					Nodes []rollupNode `json:"nodes"`
				} `json:"contexts"`
			} `json:"statusCheckRollup"`
		} `json:"object"`
	} `json:"repository"`
	RateLimit struct {
		Cost      int    `json:"cost"`
		Remaining int    `json:"remaining"`
		ResetAt   string `json:"resetAt"`
	} `json:"rateLimit"`
}

type rollupNode struct {
	Typename    string  `json:"__typename"`
	DatabaseID  int64   `json:"databaseId"`
	Name        string  `json:"name"`
	Status      string  `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"startedAt"`
	CompletedAt *string `json:"completedAt"`
	DetailsURL  string  `json:"detailsUrl"`
	CheckSuite  struct {
		DatabaseID  int64   `json:"databaseId"`
		Status      string  `json:"status"`
		Conclusion  *string `json:"conclusion"`
		WorkflowRun *struct {
			DatabaseID int64  `json:"databaseId"`
			RunNumber  int    `json:"runNumber"`
			Event      string `json:"event"`
			URL        string `json:"url"`
			Workflow   struct {
				Name string `json:"name"`
			} `json:"workflow"`
		} `json:"workflowRun"`
	} `json:"checkSuite"`
	Context     string  `json:"context"`
	State       string  `json:"state"`
	TargetURL   *string `json:"targetUrl"`
	Description *string `json:"description"`
	CreatedAt   string  `json:"createdAt"`
}

func snapshotVars(sha string, cursor *string) map[string]any {
	v := map[string]any{"owner": "agentme", "name": "agentme", "sha": sha, "cursor": nil}
	if cursor != nil {
		v["cursor"] = *cursor
	}
	return v
}

func TestGraphQLRollup(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	var jobs []ghemu.JobSpec
	for i := range 140 {
		jobs = append(jobs, ghemu.JobSpec{Name: fmt.Sprintf("job-%03d", i), RunFor: time.Minute})
	}
	jobs[7].RunFor = time.Hour
	run := e.s.AddRun("CI", shaA, "push", jobs...)
	sec := e.s.AddRun("Security Gate", shaA, "push", ghemu.JobSpec{Name: "hardening", RunFor: time.Minute, Conclusion: "failure"})
	for i := range 10 {
		e.s.AddStatus(shaA, fmt.Sprintf("ci/ext-%d", i), "success", "https://ci.example/x", "ok")
	}
	e.s.AddStatus(shaA, "ci/ext-0", "pending", "", "") // newest per context wins
	e.clk.Advance(2 * time.Minute)

	var nodes []rollupNode
	var cursor *string
	var states []string
	remaining := -1
	for page := 0; ; page++ {
		a, _ := e.graphql(snapshotQuery, snapshotVars(shaA, cursor))
		require.Empty(t, a.Errors)
		var d rollupAnswer
		require.NoError(t, json.Unmarshal(a.Data, &d))
		roll := d.Repository.Object.StatusCheckRollup
		require.NotNil(t, roll)
		assert.Equal(t, 151, roll.Contexts.TotalCount)
		states = append(states, roll.State)
		nodes = append(nodes, roll.Contexts.Nodes...)
		assert.Equal(t, 1, d.RateLimit.Cost)
		if remaining >= 0 {
			assert.Equal(t, remaining-1, d.RateLimit.Remaining)
		}
		remaining = d.RateLimit.Remaining
		if !roll.Contexts.PageInfo.HasNextPage {
			assert.Equal(t, 1, page, "two pages of at most 100")
			break
		}
		cursor = roll.Contexts.PageInfo.EndCursor
	}
	require.Len(t, nodes, 151)
	assert.Equal(t, []string{"FAILURE", "FAILURE"}, states)

	byName := map[string]rollupNode{}
	for _, n := range nodes {
		key := n.Name
		if n.Typename == "StatusContext" {
			key = n.Context
		}
		_, dup := byName[key]
		assert.False(t, dup, "%s listed twice", key)
		byName[key] = n
	}
	first := byName["job-000"]
	assert.Equal(t, "CheckRun", first.Typename)
	assert.Equal(t, run.JobIDs[0], first.DatabaseID)
	assert.Equal(t, "COMPLETED", first.Status)
	assert.Equal(t, "SUCCESS", deref(first.Conclusion))
	assert.Equal(t, t0.Format(time.RFC3339), deref(first.StartedAt))
	require.NotNil(t, first.CheckSuite.WorkflowRun)
	assert.Equal(t, "CI", first.CheckSuite.WorkflowRun.Workflow.Name)
	assert.Equal(t, run.ID, first.CheckSuite.WorkflowRun.DatabaseID)
	assert.Equal(t, run.CheckSuiteID, first.CheckSuite.DatabaseID)
	assert.Equal(t, "push", first.CheckSuite.WorkflowRun.Event)
	assert.Equal(t, "IN_PROGRESS", first.CheckSuite.Status)

	slow := byName["job-007"]
	assert.Equal(t, "IN_PROGRESS", slow.Status)
	assert.Nil(t, slow.Conclusion)

	hard := byName["hardening"]
	assert.Equal(t, sec.JobIDs[0], hard.DatabaseID)
	assert.Equal(t, "FAILURE", deref(hard.Conclusion))
	assert.Equal(t, "Security Gate", hard.CheckSuite.WorkflowRun.Workflow.Name)
	assert.Equal(t, "FAILURE", deref(hard.CheckSuite.Conclusion))

	ext := byName["ci/ext-0"]
	assert.Equal(t, "StatusContext", ext.Typename)
	assert.Equal(t, "PENDING", ext.State)
	assert.Nil(t, ext.TargetURL)
	assert.Equal(t, "SUCCESS", byName["ci/ext-1"].State)
	assert.Equal(t, "https://ci.example/x", deref(byName["ci/ext-1"].TargetURL))

	assert.Equal(t, 2, e.s.Stats().GraphQL)
	assert.Equal(t, 2, e.s.Stats().GraphQLPoints)
	qs := e.s.GraphQLQueries()
	require.Len(t, qs, 2)
	assert.Equal(t, snapshotQuery, qs[0])
}

func TestGraphQLRollupStates(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *ghemu.Server)
		want  string // "" means statusCheckRollup is null
	}{
		{"nothing", func(*ghemu.Server) {}, ""},
		{"running", func(s *ghemu.Server) { s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "a", RunFor: time.Hour}) }, "PENDING"},
		{"passed", func(s *ghemu.Server) {
			s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "a"}, ghemu.JobSpec{Name: "b", Conclusion: "skipped"},
				ghemu.JobSpec{Name: "c", Conclusion: "neutral"})
		}, "SUCCESS"},
		{"failed", func(s *ghemu.Server) { s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "a", Conclusion: "timed_out"}) }, "FAILURE"},
		{"status error", func(s *ghemu.Server) { s.AddStatus(shaA, "x", "error", "", "") }, "ERROR"},
		{"failure beats pending", func(s *ghemu.Server) {
			s.AddStatus(shaA, "x", "pending", "", "")
			s.AddCheckRun(shaA, "y", ghemu.JobSpec{Conclusion: "failure"})
		}, "FAILURE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ghemu.Options{})
			e.s.AddCommit(shaA, "main")
			tc.setup(e.s)
			e.clk.Advance(time.Minute)
			a, _ := e.graphql(snapshotQuery, snapshotVars(shaA, nil))
			require.Empty(t, a.Errors)
			var d rollupAnswer
			require.NoError(t, json.Unmarshal(a.Data, &d))
			require.NotNil(t, d.Repository.Object)
			if tc.want == "" {
				assert.Nil(t, d.Repository.Object.StatusCheckRollup)
				return
			}
			require.NotNil(t, d.Repository.Object.StatusCheckRollup)
			assert.Equal(t, tc.want, d.Repository.Object.StatusCheckRollup.State)
		})
	}
}

func TestGraphQLLatestPerSuite(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	first := e.s.AddRun("CI", shaA, "push", ghemu.JobSpec{Name: "check", Conclusion: "failure"})
	e.clk.Advance(time.Minute)
	e.s.Rerun(first.ID, ghemu.JobSpec{Name: "check"})
	second := e.s.AddRun("CI", shaA, "pull_request", ghemu.JobSpec{Name: "check"})
	e.clk.Advance(time.Minute)
	a, _ := e.graphql(snapshotQuery, snapshotVars(shaA, nil))
	require.Empty(t, a.Errors)
	var d rollupAnswer
	require.NoError(t, json.Unmarshal(a.Data, &d))
	var suites []int64
	for _, n := range d.Repository.Object.StatusCheckRollup.Contexts.Nodes {
		suites = append(suites, n.CheckSuite.DatabaseID)
		assert.Equal(t, "SUCCESS", deref(n.Conclusion), "the failed first attempt is hidden")
	}
	assert.Equal(t, []int64{first.CheckSuiteID, second.CheckSuiteID}, suites,
		"one check run per name per check suite: the same name appears once per workflow run")
}

func TestGraphQLFeatures(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	run := e.s.AddRun("Security Gate", shaA, "push", ghemu.SecurityGateJob(ghemu.SecurityGateOptions{}))
	e.s.AddStatus(shaA, "ci/ext", "success", "", "")
	e.clk.Advance(time.Hour)

	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  string // JSON of data
	}{
		{"aliases, named fragments and __typename", `
			query Q($sha: GitObjectID!) {
			  r: repository(owner: "agentme", name: "agentme") {
			    __typename
			    c: object(oid: $sha) { __typename ...C }
			  }
			}
			fragment C on Commit { oid abbreviatedOid statusCheckRollup { state contexts(first: 1) { totalCount nodes { ...N } } } }
			fragment N on StatusCheckRollupContext { __typename ... on CheckRun { n: name } }`,
			map[string]any{"sha": shaA},
			`{"r":{"__typename":"Repository","c":{"__typename":"Commit","oid":"` + shaA + `","abbreviatedOid":"a1b2c3d","statusCheckRollup":{"state":"SUCCESS","contexts":{"totalCount":2,"nodes":[{"__typename":"CheckRun","n":"hardening"}]}}}}}`},
		{"unknown oid is null", `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaC + `") { oid } } }`, nil,
			`{"repository":{"object":null}}`},
		{"ref and expression", `{ repository(owner: "agentme", name: "agentme") { ref(qualifiedName: "main") { name prefix target { oid } } object(expression: "main") { ... on Commit { oid } } } }`, nil,
			`{"repository":{"ref":{"name":"main","prefix":"refs/heads/","target":{"oid":"` + shaA + `"}},"object":{"oid":"` + shaA + `"}}}`},
		{"skip and include", `query($no: Boolean!) { repository(owner: "agentme", name: "agentme") { name @skip(if: $no) nameWithOwner @include(if: $no) } }`,
			map[string]any{"no": true}, `{"repository":{"nameWithOwner":"agentme/agentme"}}`},
		{"edges and cursors", `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit { statusCheckRollup { contexts(last: 1) { edges { cursor node { ... on StatusContext { context } } } pageInfo { hasNextPage hasPreviousPage } } } } } } }`, nil,
			`{"repository":{"object":{"statusCheckRollup":{"contexts":{"edges":[{"cursor":"Y3Vyc29yOnYyOjI=","node":{"context":"ci/ext"}}],"pageInfo":{"hasNextPage":false,"hasPreviousPage":true}}}}}}`},
		{"check suites, steps and counts", `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit {
			  checkSuites(first: 5) { nodes { app { slug } workflowRun { runNumber workflow { name } } checkRuns(first: 1, filterBy: {checkName: "hardening"}) { nodes { steps(first: 10, number: 7) { nodes { name number status conclusion } } } } } }
			  statusCheckRollup { contexts(first: 1) { totalCount checkRunCount statusContextCount checkRunCountsByState { state count } } } } } } }`, nil,
			`{"repository":{"object":{"checkSuites":{"nodes":[{"app":{"slug":"github-actions"},"workflowRun":{"runNumber":1,"workflow":{"name":"Security Gate"}},"checkRuns":{"nodes":[{"steps":{"nodes":[{"name":"Security regression tests","number":7,"status":"COMPLETED","conclusion":"SUCCESS"}]}}]}}]},"statusCheckRollup":{"contexts":{"totalCount":2,"checkRunCount":1,"statusContextCount":1,"checkRunCountsByState":[{"state":"SUCCESS","count":1}]}}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := e.graphql(tc.query, tc.vars)
			require.Empty(t, a.Errors)
			assert.JSONEq(t, tc.want, string(a.Data))
		})
	}
	_ = run
}

func TestGraphQLErrors(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	e.s.AddCommit(shaA, "main")
	e.s.AddRun("CI", shaA, "push")
	contexts := func(args, sel string) string {
		return `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit { statusCheckRollup { contexts` + args + ` { ` + sel + ` } } } } } }`
	}
	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantType string
		wantMsg  string
		dataNull bool
	}{
		{"invalid field", `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit { statusCheckRollup { contexts(first: 10) { nodes { ... on CheckRun { foo } } } } } } } }`,
			nil, "", "Field 'foo' doesn't exist on type 'CheckRun'", true},
		{"wrong argument type", contexts(`(first: "ten")`, "totalCount"), nil, "", "ten", true},
		{"variable of the wrong type", `query($n: String) { repository(owner: "agentme", name: "agentme") { name } rateLimit(dryRun: $n) { cost } }`,
			nil, "", "String", true},
		{"missing variable", `query($sha: GitObjectID!) { repository(owner: "agentme", name: "agentme") { object(oid: $sha) { oid } } }`,
			nil, "", "sha", true},
		{"bad variable value", `query($n: Int) { repository(owner: "agentme", name: "agentme") { name } }`,
			map[string]any{"n": "many"}, "", "n", true},
		{"parse error", `{ repository(owner: "agentme" `, nil, "", "Expected", true},
		{"mutation", `mutation { addComment { x } }`, nil, "", "mutation", true},
		{"too many", contexts(`(first: 101)`, "nodes { __typename }"), nil, "EXCESSIVE_PAGINATION",
			"Requesting 101 records on the `contexts` connection exceeds the `first` limit of 100 records.", true},
		{"too many by variable", `query($n: Int) { repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit { checkSuites(last: $n) { nodes { databaseId } } } } } }`,
			map[string]any{"n": 500}, "EXCESSIVE_PAGINATION", "500", true},
		{"no boundaries", contexts(``, "nodes { __typename }"), nil, "MISSING_PAGINATION_BOUNDARIES",
			"You must provide a `first` or `last` value to properly paginate the `contexts` connection.", true},
		{"negative", contexts(`(first: -1)`, "totalCount"), nil, "INVALID_PAGINATION", "within 1-100", true},
		{"zero", contexts(`(first: 0)`, "totalCount"), nil, "INVALID_PAGINATION", "within 1-100", true},
		{"count only still needs boundaries", contexts(``, "totalCount"), nil, "MISSING_PAGINATION_BOUNDARIES", "`contexts`", true},
		{"node limit", `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit { checkSuites(first: 100) { nodes { checkRuns(first: 100) { nodes { steps(first: 100) { nodes { name } } } } } } } } } }`,
			nil, "MAX_NODE_LIMIT_EXCEEDED", "1010100", true},
		{"bad cursor", contexts(`(first: 5, after: "nope")`, "totalCount"), nil, "", "cursor", false},
		{"other repository", `{ repository(owner: "agentme", name: "other") { name } }`, nil, "NOT_FOUND",
			"Could not resolve to a Repository with the name 'agentme/other'.", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := e.graphql(tc.query, tc.vars)
			require.NotEmpty(t, a.Errors)
			assert.Equal(t, tc.wantType, a.Errors[0].Type)
			assert.Contains(t, a.Errors[0].Message, tc.wantMsg)
			if tc.dataNull {
				assert.True(t, len(a.Data) == 0 || string(a.Data) == "null", string(a.Data))
			}
		})
	}

	a, _ := e.graphql(`{ repository(owner: "agentme", name: "agentme") { object(oid: "`+shaA+`") { ... on Commit { statusCheckRollup { contexts(first: 10) { nodes { ... on CheckRun { foo } } } } } } } }`, nil)
	require.NotEmpty(t, a.Errors[0].Locations)
	assert.Equal(t, "undefinedField", a.Errors[0].Ext["code"])
}

func TestGraphQLCostAndRateLimit(t *testing.T) {
	e := newEnv(t, ghemu.Options{RateLimit: 3})
	e.s.AddCommit(shaA, "main")
	nested := `{ repository(owner: "agentme", name: "agentme") { object(oid: "` + shaA + `") { ... on Commit {
		checkSuites(first: 100) { nodes { checkRuns(first: 100) { nodes { name } } } } } } } rateLimit { cost nodeCount remaining used limit } }`
	a, r := e.graphql(nested, nil)
	require.Empty(t, a.Errors)
	var d struct {
		RateLimit struct{ Cost, NodeCount, Remaining, Used, Limit int } `json:"rateLimit"`
	}
	require.NoError(t, json.Unmarshal(a.Data, &d))
	assert.Equal(t, 1, d.RateLimit.Cost, "101 requests / 100, rounded")
	assert.Equal(t, 100+100*100, d.RateLimit.NodeCount)
	assert.Equal(t, 2, d.RateLimit.Remaining)
	assert.Equal(t, "graphql", r.Header.Get("X-RateLimit-Resource"))
	assert.Equal(t, "2", r.Header.Get("X-RateLimit-Remaining"))

	dry, _ := e.graphql(`{ rateLimit(dryRun: true) { cost remaining } }`, nil)
	assert.JSONEq(t, `{"rateLimit":{"cost":1,"remaining":2}}`, string(dry.Data))

	e.graphql(`{ rateLimit { cost } }`, nil)
	e.graphql(`{ rateLimit { cost } }`, nil)
	over, _ := e.graphql(`{ rateLimit { cost } }`, nil)
	require.NotEmpty(t, over.Errors)
	assert.Equal(t, "RATE_LIMITED", over.Errors[0].Type)
	assert.True(t, strings.Contains(over.Errors[0].Message, "rate limit"))

	core, gql := e.s.RateRemaining()
	assert.Equal(t, 3, core, "GraphQL points and REST requests are separate budgets")
	assert.Equal(t, 0, gql)
}

func TestGraphQLTransportErrors(t *testing.T) {
	e := newEnv(t, ghemu.Options{})
	r := e.do("POST", e.base+"/api/graphql", "{not json")
	assert.Equal(t, 400, r.StatusCode)
	r = e.do("POST", e.base+"/api/graphql", `{"variables":{}}`)
	assert.Equal(t, 200, r.StatusCode)
	assert.Contains(t, string(r.body), "A query attribute must be specified")
	assert.Equal(t, 404, e.get(e.base+"/api/graphql").StatusCode)
}
