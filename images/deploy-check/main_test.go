package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "test-token"

// fakeAPI serves apps/v1 Deployments and StatefulSets from a map keyed by URL path; a handler
// may change the map between reads to play a rollout.
type fakeAPI struct {
	mu      sync.Mutex
	objects map[string]map[string]any
	reads   map[string]int
	onRead  func(path string, reads int, obj map[string]any)
	status  int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "read only", http.StatusMethodNotAllowed)
		return
	}
	if f.status != 0 {
		http.Error(w, "forbidden", f.status)
		return
	}
	f.reads[r.URL.Path]++
	obj, ok := f.objects[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if f.onRead != nil {
		f.onRead(r.URL.Path, f.reads[r.URL.Path], obj)
	}
	_ = json.NewEncoder(w).Encode(obj)
}

func workload(generation, observed int64, replicas, current, updated, ready int32) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"generation": generation},
		"spec":     map[string]any{"replicas": replicas},
		"status":   map[string]any{"observedGeneration": observed, "replicas": current, "updatedReplicas": updated, "readyReplicas": ready},
	}
}

const (
	apiPath  = "/apis/apps/v1/namespaces/core/deployments/api"
	dbPath   = "/apis/apps/v1/namespaces/data/statefulsets/db"
	webPath  = "/apis/apps/v1/namespaces/web/deployments/web"
	wantList = "core/Deployment/api,data/StatefulSet/db,web/Deployment/web"
)

// serve starts a TLS API server and writes the CA and token where a pod would find them.
func serve(t *testing.T, f *fakeAPI) (getenv func(string) string, dir string) {
	t.Helper()
	if f.reads == nil {
		f.reads = map[string]int{}
	}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	dir = t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "https://"), ":")
	env := map[string]string{"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, WorkloadsEnv: wantList}
	return func(k string) string { return env[k] }, dir
}

// check runs the whole program against the fake API with the CA and token of dir.
func check(t *testing.T, f *fakeAPI, args ...string) (int, string) {
	t.Helper()
	getenv, dir := serve(t, f)
	workloads, err := ParseWorkloads(getenv(WorkloadsEnv))
	if err != nil {
		t.Fatal(err)
	}
	api, err := InCluster(getenv, dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	wait := 0 * time.Second
	if len(args) > 0 {
		wait, _ = time.ParseDuration(args[0])
	}
	c := Checker{API: api, Wait: wait, Interval: time.Millisecond, Out: &out}
	return c.Run(context.Background(), workloads), out.String()
}

func TestAllReady(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{
		apiPath: workload(3, 3, 2, 2, 2, 2),
		dbPath:  workload(1, 1, 1, 1, 1, 1),
		webPath: workload(5, 5, 1, 1, 1, 1),
	}}
	code, out := check(t, f)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	want := "ready     core/Deployment/api: 2/2 updated, 2/2 ready\n" +
		"ready     data/StatefulSet/db: 1/1 updated, 1/1 ready\n" +
		"ready     web/Deployment/web: 1/1 updated, 1/1 ready\n" +
		"deploy-check: all 3 workloads rolled out and ready\n"
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestNotReadyNamesTheWorkloads(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{
		apiPath: workload(4, 3, 2, 2, 2, 2), // new generation not yet seen by the controller
		dbPath:  workload(1, 1, 1, 1, 1, 0), // pod not ready
		// web is missing
	}}
	code, out := check(t, f)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, line := range []string{
		"NOT READY core/Deployment/api: generation 4 not yet observed (controller at 3); 2/2 updated, 2/2 ready",
		"NOT READY data/StatefulSet/db: 1/1 updated, 0/1 ready: pods not ready",
		"NOT READY web/Deployment/web: not found",
		"deploy-check: 3 of 3 workloads not ready after 0s: api, db, web",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestWaitsForARollout(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{
		apiPath: workload(2, 2, 2, 3, 1, 2),
		dbPath:  workload(1, 1, 1, 1, 1, 1),
		webPath: workload(1, 1, 1, 1, 1, 1),
	}}
	// The third read of api finds the rollout done; ready workloads are not read again.
	f.onRead = func(path string, reads int, obj map[string]any) {
		if path == apiPath && reads >= 3 {
			obj["status"] = map[string]any{"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2}
		}
	}
	code, out := check(t, f, "1m")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	if f.reads[apiPath] != 3 || f.reads[dbPath] != 1 {
		t.Fatalf("reads %v: want api read 3 times, db once", f.reads)
	}
}

func TestGivesUpAfterTheWait(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{
		apiPath: workload(2, 2, 2, 3, 1, 2), // an old pod still running, one updated
		dbPath:  workload(1, 1, 1, 1, 1, 1),
		webPath: workload(1, 1, 1, 1, 1, 1),
	}}
	code, out := check(t, f, "20ms")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "NOT READY core/Deployment/api: 1/2 updated, 2/2 ready: rollout not finished\n") ||
		!strings.HasSuffix(out, "deploy-check: 1 of 3 workloads not ready after 20ms: api\n") {
		t.Fatalf("output:\n%s", out)
	}
	if f.reads[apiPath] < 2 {
		t.Fatalf("api read %d times: a not-ready workload is read again until the wait ends", f.reads[apiPath])
	}
}

func TestOldRevisionPodsMeanNotDone(t *testing.T) {
	v := Judge("Deployment", decode(t, workload(2, 2, 2, 3, 2, 2)))
	if v.Ready || v.Detail != "2/2 updated, 2/2 ready: 1 pods of an old revision still running" {
		t.Fatalf("%+v", v)
	}
	if !Judge("StatefulSet", decode(t, workload(2, 2, 2, 2, 2, 2))).Ready {
		t.Fatal("a StatefulSet with every pod updated and ready is ready")
	}
	noReplicas := decode(t, workload(1, 1, 0, 0, 0, 0))
	noReplicas.Spec.Replicas = nil
	if v := Judge("Deployment", noReplicas); v.Ready {
		t.Fatalf("spec.replicas defaults to 1: %+v", v)
	}
}

func decode(t *testing.T, obj map[string]any) *status {
	t.Helper()
	b, _ := json.Marshal(obj)
	var s status
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestForbiddenSaysWhichGrantIsMissing(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{}, status: http.StatusForbidden}
	code, out := check(t, f)
	if code != 1 || !strings.Contains(out, "NOT READY data/StatefulSet/db: API refused the read (403 Forbidden): the task's Role must grant get on statefulsets.apps in data\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestRunUsesTheMountedTokenAndExitCodes(t *testing.T) {
	f := &fakeAPI{objects: map[string]map[string]any{
		apiPath: workload(1, 1, 1, 1, 1, 1),
		dbPath:  workload(1, 1, 1, 1, 1, 1),
		webPath: workload(1, 1, 1, 1, 1, 0),
	}}
	getenv, dir := serve(t, f)
	// run reads the CA and token from the pod's fixed path; this test points InCluster elsewhere.
	api, err := InCluster(getenv, dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := Checker{API: api, Wait: 0, Interval: time.Millisecond, Out: &out}
	workloads, _ := ParseWorkloads(getenv(WorkloadsEnv))
	if code := c.Run(context.Background(), workloads); code != 1 || !strings.HasSuffix(out.String(), "not ready after 0s: web\n") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	// A wrong token is refused by the server, and the line says so.
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := c.Run(context.Background(), workloads[:1]); code != 1 || !strings.Contains(out.String(), "401 Unauthorized") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{}, "NEXUS_CHECK_WORKLOADS: names no workload"},
		{nil, map[string]string{WorkloadsEnv: "core/Pod/x"}, `kind "Pod" is neither Deployment nor StatefulSet`},
		{nil, map[string]string{WorkloadsEnv: "core/api"}, `"core/api" is not NAMESPACE/KIND/NAME`},
		{nil, map[string]string{WorkloadsEnv: "core/Deployment/api"}, "not running in a pod"},
		{[]string{"extra"}, map[string]string{}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		stderr.Reset()
		if code := run(context.Background(), c.args, env(c.env), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and %q", c.args, c.env, code, stderr.String(), c.want)
		}
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"version"}, env(nil), &stdout, &stderr); code != 0 || stdout.String() != "deploy-check dev\n" {
		t.Fatalf("version: %d %q", code, stdout.String())
	}
}

func TestParseWorkloadsKeepsOrder(t *testing.T) {
	got, err := ParseWorkloads(" data/StatefulSet/db, core/Deployment/api ,")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "data/StatefulSet/db" || got[1].String() != "core/Deployment/api" {
		t.Fatalf("%v", got)
	}
}
