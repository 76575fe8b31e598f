// Command nexus-demo is the demo stand-in for the private NEXUS service and task images on the
// local cluster. It is not any of those services: it answers HTTP so that probes pass, exports
// Prometheus metrics, and checks that the dependencies a service declares can be reached, which
// is what the local stack needs to exercise start order, probes, scraping and network policies.
//
//	nexus-demo [serve]                      HTTP server on $PORT (default 8080)
//	nexus-demo connect HOST:PORT [--timeout 3s]
//	                                        exit 0 if a TCP connection succeeds, 1 otherwise
//	nexus-demo resolve NAME                 print the addresses NAME resolves to; exit 1 if none
//	nexus-demo task ARGS...                 a scheduled task's stand-in (also when invoked through
//	                                        a symlink with another name, e.g. nexus-report)
//	nexus-demo fault PATH...                make the running server answer 503 on each PATH (for
//	                                        example its readiness path), to rehearse an outage
//	nexus-demo fault --clear                answer 200 again
//	nexus-demo version
//
// The server listens on HOST:PORT (HOST empty by default: every address). Dependencies are read
// from NEXUS_DEPENDENCIES, a comma-separated list of HOST:PORT. The server checks them every 10
// seconds; a task checks them once and fails when one does not answer.
//
// A fault is a file in the container's /tmp (every pod of the stack has one, shared by
// `kubectl exec` and the server), so an operator or a test can make a probe fail without
// changing the pod's spec, which would roll out a new pod instead of failing the running one.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// version is set at build time (-ldflags "-X main.version=...") to the image tag.
var version = "dev"

const (
	checkInterval = 10 * time.Second
	checkTimeout  = 2 * time.Second
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

func main() {
	os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:]))
}

// run dispatches on the command name: the binary's own names take a subcommand, any other name
// is a symlink for a task command.
func run(name string, args []string) int {
	if name != "nexus-demo" && name != "demo" {
		return task(name, args)
	}
	if len(args) == 0 {
		return serve()
	}
	if strings.HasPrefix(args[0], "-") && args[0] != "--version" && args[0] != "-v" {
		// Container args meant for the service this image stands in for: serve anyway.
		logger.Warn("ignoring arguments", "args", strings.Join(args, " "))
		return serve()
	}
	switch args[0] {
	case "serve":
		return serve()
	case "connect":
		return connect(args[1:])
	case "resolve":
		return resolve(args[1:])
	case "task":
		return task("task", args[1:])
	case "fault":
		return fault(args[1:])
	case "version", "--version", "-v":
		fmt.Println("nexus-demo", version)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "nexus-demo: unknown command %q (serve, connect, resolve, task, fault, version)\n", args[0])
		return 2
	}
}

// ---------------------------------------------------------------------------------------------
// Dependency checks
// ---------------------------------------------------------------------------------------------

// dependencies parses NEXUS_DEPENDENCIES, dropping empty entries.
func dependencies() []string {
	var out []string
	for _, d := range strings.Split(os.Getenv("NEXUS_DEPENDENCIES"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// dial opens and closes one TCP connection to target.
func dial(target string, timeout time.Duration) error {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return fmt.Errorf("not HOST:PORT: %w", err)
	}
	conn, err := net.DialTimeout("tcp", target, timeout)
	if err != nil {
		return err
	}
	return conn.Close()
}

// checkAll checks every target concurrently and logs each result.
func checkAll(targets []string) map[string]bool {
	results := make(map[string]bool, len(targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := dial(t, checkTimeout)
			if err != nil {
				logger.Warn("dependency down", "target", t, "error", err.Error())
			} else {
				logger.Info("dependency up", "target", t, "ms", time.Since(start).Milliseconds())
			}
			mu.Lock()
			results[t] = err == nil
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // {method, code class} -> count
	up       map[string]bool
	checks   map[string]uint64
}

func (m *metrics) countRequest(method string, code int) {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		method = "other" // bounded label values whatever a client sends
	}
	m.mu.Lock()
	m.requests[[2]string{method, strconv.Itoa(code)}]++
	m.mu.Unlock()
}

func (m *metrics) record(results map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for t, ok := range results {
		m.up[t] = ok
		m.checks[t]++
	}
}

// write renders the Prometheus text exposition format, in a stable order.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP nexus_demo_build_info The demo stand-in's version; always 1.")
	fmt.Fprintln(w, "# TYPE nexus_demo_build_info gauge")
	fmt.Fprintf(w, "nexus_demo_build_info{version=%q} 1\n", version)

	fmt.Fprintln(w, "# HELP nexus_demo_http_requests_total HTTP requests served, by method and status code.")
	fmt.Fprintln(w, "# TYPE nexus_demo_http_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "nexus_demo_http_requests_total{method=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}

	targets := make([]string, 0, len(m.up))
	for t := range m.up {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	fmt.Fprintln(w, "# HELP nexus_demo_dependency_up Whether the last TCP check of a dependency succeeded (0 before the first check).")
	fmt.Fprintln(w, "# TYPE nexus_demo_dependency_up gauge")
	for _, t := range targets {
		v := 0
		if m.up[t] {
			v = 1
		}
		fmt.Fprintf(w, "nexus_demo_dependency_up{target=%q} %d\n", t, v)
	}
	fmt.Fprintln(w, "# HELP nexus_demo_dependency_checks_total TCP checks made per dependency.")
	fmt.Fprintln(w, "# TYPE nexus_demo_dependency_checks_total counter")
	for _, t := range targets {
		fmt.Fprintf(w, "nexus_demo_dependency_checks_total{target=%q} %d\n", t, m.checks[t])
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func serve() int {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	targets := dependencies()
	m := &metrics{requests: map[[2]string]uint64{}, up: map[string]bool{}, checks: map[string]uint64{}}
	for _, t := range targets {
		m.up[t] = false // every declared dependency is exported from the start
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w)
	})
	// Every other path answers 200, so whatever probe path a registry declares passes, unless a
	// fault names it.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if faulted(r.URL.Path) {
			http.Error(w, "nexus-demo: fault injected on "+r.URL.Path, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"status\":\"ok\",\"service\":\"nexus-demo\",\"version\":%q,\"path\":%q}\n", version, r.URL.Path)
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(rec, r)
		m.countRequest(r.Method, rec.code)
	})

	srv := &http.Server{Addr: net.JoinHostPort(os.Getenv("HOST"), port), Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		logger.Error("cannot listen", "address", srv.Addr, "error", err.Error())
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger.Info("nexus-demo: demo stand-in for a NEXUS service", "version", version, "address", ln.Addr().String(), "dependencies", strings.Join(targets, ","))

	if len(targets) > 0 {
		go func() {
			ticker := time.NewTicker(checkInterval)
			defer ticker.Stop()
			for {
				m.record(checkAll(targets))
				select {
				case <-ctx.Done():
					return
				case <-ticker.C:
				}
			}
		}()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		logger.Error("server stopped", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown", "error", err.Error())
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

// faultFile lists the paths that answer 503, one per line; NEXUS_DEMO_FAULT_FILE overrides it.
func faultFile() string {
	if f := os.Getenv("NEXUS_DEMO_FAULT_FILE"); f != "" {
		return f
	}
	return "/tmp/nexus-demo-fault"
}

// faulted reports whether PATH is listed in the fault file; read on every request, so a fault
// takes effect at the next probe.
func faulted(path string) bool {
	data, err := os.ReadFile(faultFile())
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == path {
			return true
		}
	}
	return false
}

func fault(args []string) int {
	if len(args) == 1 && args[0] == "--clear" {
		if err := os.Remove(faultFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(os.Stderr, "nexus-demo fault:", err)
			return 1
		}
		fmt.Println("nexus-demo: fault cleared")
		return 0
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: nexus-demo fault PATH... | --clear")
		return 2
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "/") {
			fmt.Fprintf(os.Stderr, "nexus-demo fault: %q is not a path (it starts with /)\n", a)
			return 2
		}
	}
	if err := os.WriteFile(faultFile(), []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "nexus-demo fault:", err)
		return 1
	}
	fmt.Println("nexus-demo: answering 503 on", strings.Join(args, " "))
	return 0
}

// ---------------------------------------------------------------------------------------------
// connect, resolve, task
// ---------------------------------------------------------------------------------------------

func connect(args []string) int {
	timeout := 3 * time.Second
	var target string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--timeout" || a == "-timeout":
			if i+1 >= len(args) {
				fmt.Fprintln(os.Stderr, "nexus-demo connect: --timeout needs a duration, e.g. 3s")
				return 2
			}
			i++
			a = "--timeout=" + args[i]
			fallthrough
		case strings.HasPrefix(a, "--timeout=") || strings.HasPrefix(a, "-timeout="):
			d, err := time.ParseDuration(a[strings.Index(a, "=")+1:])
			if err != nil || d <= 0 {
				fmt.Fprintf(os.Stderr, "nexus-demo connect: bad timeout %q\n", a)
				return 2
			}
			timeout = d
		case target == "" && !strings.HasPrefix(a, "-"):
			target = a
		default:
			fmt.Fprintf(os.Stderr, "nexus-demo connect: unexpected argument %q\n", a)
			return 2
		}
	}
	if target == "" {
		fmt.Fprintln(os.Stderr, "usage: nexus-demo connect HOST:PORT [--timeout 3s]")
		return 2
	}
	if err := dial(target, timeout); err != nil {
		fmt.Fprintf(os.Stderr, "connect %s: %v\n", target, err)
		return 1
	}
	fmt.Printf("connect %s: ok\n", target)
	return 0
}

func resolve(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: nexus-demo resolve NAME")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, args[0])
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "resolve %s: %v\n", args[0], err)
		return 1
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return 0
}

// taskRetryWindow is how long a task keeps trying dependencies that do not answer yet:
// NEXUS_DEPENDENCIES_WAIT (a Go duration), 30s when unset or invalid.
func taskRetryWindow() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("NEXUS_DEPENDENCIES_WAIT")); err == nil && d >= 0 {
		return d
	}
	return 30 * time.Second
}

func task(name string, args []string) int {
	logger.Info("nexus-demo: demo stand-in for a scheduled task; it does no real work", "command", name, "args", strings.Join(args, " "), "version", version)
	targets := dependencies()
	// A new pod's NetworkPolicy rules are in place a moment after it starts (the enforcer
	// reacts to the pod's creation), so a dependency that refuses at first is tried again for a
	// while before the task fails, as a real task's client would retry.
	deadline := time.Now().Add(taskRetryWindow())
	down := len(targets)
	for {
		results := checkAll(targets)
		down = 0
		for _, ok := range results {
			if !ok {
				down++
			}
		}
		if down == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if down > 0 {
		logger.Error("task failed: dependencies down", "down", down, "of", len(targets))
		return 1
	}
	logger.Info("task done", "dependencies", len(targets))
	return 0
}
