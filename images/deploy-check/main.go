// Command deploy-check is the platform's post-deploy check. Run as a Job in the cluster, it asks
// the Kubernetes API, with the pod's own service account token, whether each workload it is
// given has rolled out and is ready, waits a bounded time for those that are not yet, prints one
// line per workload and exits 1 naming the ones that never got there, so the Job fails visibly.
//
//	deploy-check [--wait 2m] [--interval 2s]
//	deploy-check version
//
// The workloads come from NEXUS_CHECK_WORKLOADS, which the platform sets from the orchestration
// registry: a comma-separated list of NAMESPACE/KIND/NAME, KIND being Deployment or StatefulSet.
// A workload is ready when the controller has observed its latest generation and every one of
// its spec.replicas pods is updated and ready (for a Deployment, with no pod of an old revision
// left). The API is reached as every pod reaches it: KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, the CA certificate and the token under
// /var/run/secrets/kubernetes.io/serviceaccount. The token is read again for every request,
// since the kubelet rotates it. The program uses the Go standard library only.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// version is set at build time (-ldflags "-X main.version=...") to the image tag.
var version = "dev"

const (
	// WorkloadsEnv names the workloads to check; the platform sets it.
	WorkloadsEnv = "NEXUS_CHECK_WORKLOADS"
	// ServiceAccountDir is where the kubelet mounts a pod's API token and the cluster's CA.
	ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	requestTimeout    = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run parses the arguments and the environment, builds the in-cluster client and checks; its
// result is the exit code: 0 all ready, 1 some not ready, 2 a usage or setup error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "version" {
		fmt.Fprintf(stdout, "deploy-check %s\n", version)
		return 0
	}
	flags := flag.NewFlagSet("deploy-check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	wait := flags.Duration("wait", 2*time.Minute, "how long to wait for workloads that are not ready yet")
	interval := flags.Duration("interval", 2*time.Second, "time between two reads of a workload that is not ready")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy-check: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	workloads, err := ParseWorkloads(getenv(WorkloadsEnv))
	if err != nil {
		fmt.Fprintf(stderr, "deploy-check: %s: %v\n", WorkloadsEnv, err)
		return 2
	}
	api, err := InCluster(getenv, ServiceAccountDir)
	if err != nil {
		fmt.Fprintf(stderr, "deploy-check: %v\n", err)
		return 2
	}
	c := Checker{API: api, Wait: *wait, Interval: *interval, Out: stdout}
	return c.Run(ctx, workloads)
}

// Workload is one Deployment or StatefulSet to check.
type Workload struct {
	Namespace, Kind, Name string
}

func (w Workload) String() string { return w.Namespace + "/" + w.Kind + "/" + w.Name }

var resources = map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets"}

// ParseWorkloads reads NAMESPACE/KIND/NAME,... in order; an empty list is an error, since a check
// of nothing would pass whatever the cluster looks like.
func ParseWorkloads(text string) ([]Workload, error) {
	var out []Workload
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "/")
		if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%q is not NAMESPACE/KIND/NAME", item)
		}
		if _, ok := resources[parts[1]]; !ok {
			return nil, fmt.Errorf("%q: kind %q is neither Deployment nor StatefulSet", item, parts[1])
		}
		out = append(out, Workload{Namespace: parts[0], Kind: parts[1], Name: parts[2]})
	}
	if len(out) == 0 {
		return nil, errors.New("names no workload")
	}
	return out, nil
}

// API reads objects from the Kubernetes API server with a bearer token.
type API struct {
	Base      string
	TokenFile string
	Client    *http.Client
}

// InCluster is the API as a pod sees it: the kubernetes Service's address from the environment,
// the mounted CA and token.
func InCluster(getenv func(string) string, dir string) (*API, error) {
	host, port := getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not running in a pod")
	}
	pem, err := os.ReadFile(dir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("no service account CA (is automountServiceAccountToken off for this pod?): %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s/ca.crt holds no PEM certificate", dir)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &API{
		Base:      "https://" + net.JoinHostPort(host, port),
		TokenFile: dir + "/token",
		Client:    &http.Client{Transport: transport, Timeout: requestTimeout},
	}, nil
}

// status is what the check reads of a Deployment or StatefulSet.
type status struct {
	Metadata struct {
		Generation int64 `json:"generation"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int32 `json:"replicas"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int64 `json:"observedGeneration"`
		Replicas           int32 `json:"replicas"`
		UpdatedReplicas    int32 `json:"updatedReplicas"`
		ReadyReplicas      int32 `json:"readyReplicas"`
	} `json:"status"`
}

// Get reads one workload; the error says what the API answered.
func (a *API) Get(ctx context.Context, w Workload) (*status, error) {
	token, err := os.ReadFile(a.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("no service account token: %w", err)
	}
	u := fmt.Sprintf("%s/apis/apps/v1/namespaces/%s/%s/%s", a.Base, url.PathEscape(w.Namespace), resources[w.Kind], url.PathEscape(w.Name))
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("API server unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the API's answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, errors.New("not found")
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("API refused the read (%s): the task's Role must grant get on %s.apps in %s", resp.Status, resources[w.Kind], w.Namespace)
	default:
		return nil, fmt.Errorf("API answered %s", resp.Status)
	}
	var s status
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("API answer is not a %s: %w", w.Kind, err)
	}
	return &s, nil
}

// Verdict is one workload's state: Ready, or the reason it is not.
type Verdict struct {
	Ready  bool
	Detail string
}

// Judge says whether a workload has rolled out and is ready: its latest generation observed, and
// every desired pod updated and ready. A Deployment also has no pod of an old revision left
// (status.replicas counts them); a StatefulSet replaces its pods one by one, so updated covers it.
func Judge(kind string, s *status) Verdict {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	counts := fmt.Sprintf("%d/%d updated, %d/%d ready", st.UpdatedReplicas, want, st.ReadyReplicas, want)
	switch {
	case st.ObservedGeneration < s.Metadata.Generation:
		return Verdict{false, fmt.Sprintf("generation %d not yet observed (controller at %d); %s", s.Metadata.Generation, st.ObservedGeneration, counts)}
	case st.UpdatedReplicas < want:
		return Verdict{false, counts + ": rollout not finished"}
	case st.ReadyReplicas < want:
		return Verdict{false, counts + ": pods not ready"}
	case kind == "Deployment" && st.Replicas > want:
		return Verdict{false, fmt.Sprintf("%s: %d pods of an old revision still running", counts, st.Replicas-want)}
	}
	return Verdict{true, counts}
}

// Checker reads every workload until all are ready or Wait has passed.
type Checker struct {
	API interface {
		Get(context.Context, Workload) (*status, error)
	}
	Wait     time.Duration
	Interval time.Duration
	Out      io.Writer
}

// Run checks the workloads, prints one line per workload in the order given and a summary, and
// returns 0 when all are ready, 1 otherwise.
func (c *Checker) Run(ctx context.Context, workloads []Workload) int {
	deadline := time.Now().Add(c.Wait)
	verdicts := make(map[Workload]Verdict, len(workloads))
	for {
		pending := 0
		for _, w := range workloads {
			if verdicts[w].Ready {
				continue
			}
			s, err := c.API.Get(ctx, w)
			if err != nil {
				verdicts[w] = Verdict{false, err.Error()}
			} else {
				verdicts[w] = Judge(w.Kind, s)
			}
			if !verdicts[w].Ready {
				pending++
			}
		}
		if pending == 0 || !time.Now().Add(c.Interval).Before(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.Interval):
		}
	}
	var failed []string
	for _, w := range workloads {
		v := verdicts[w]
		mark := "ready    "
		if !v.Ready {
			mark = "NOT READY"
			failed = append(failed, w.Name)
		}
		fmt.Fprintf(c.Out, "%s %s: %s\n", mark, w, v.Detail)
	}
	if len(failed) > 0 {
		fmt.Fprintf(c.Out, "deploy-check: %d of %d workloads not ready after %s: %s\n", len(failed), len(workloads), c.Wait, strings.Join(failed, ", "))
		return 1
	}
	fmt.Fprintf(c.Out, "deploy-check: all %d workloads rolled out and ready\n", len(workloads))
	return 0
}
