// Minimal Node.js language host for the Pulumi CLI.
//
// Why this exists: the upstream host (module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// available from the package registries our machines can reach, while the
// CLI, the SDK protocol (sdk/v3) and the Node.js SDK (@pulumi/pulumi on npm)
// are. The real work happens in the npm SDK's own entry points
// (@pulumi/pulumi/cmd/run, cmd/run-policy-pack); this host only implements the
// LanguageRuntime gRPC service the CLI talks to and spawns node on them, the
// same way the upstream host does. scripts/bootstrap builds it against sdk/v3
// at the CLI's version.
//
// Supported runtime options (Pulumi.yaml / PulumiPolicy.yaml `runtime.options`):
// typescript (bool, default true), tsconfig (path), nodeargs (string).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Set with -ldflags "-X main.version=..." by the bootstrap script.
var version = "0.0.0-dev"

// Exit code the Node SDK uses when it has already reported the error to the
// user; the CLI should then not print a generic failure on top.
const exitCodeAlreadyLogged = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func main() {
	h := &host{}
	// The CLI passes optional logging/tracing flags followed by the engine
	// address as the last positional argument. Unknown flags are ignored so a
	// newer CLI cannot break start-up.
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-tracing" || a == "--tracing":
			if i+1 < len(args) {
				h.tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "-tracing=") || strings.HasPrefix(a, "--tracing="):
			h.tracing = a[strings.Index(a, "=")+1:]
		case strings.HasPrefix(a, "-"):
			// ignore (-v=N, --logtostderr, -root=..., runtime options as flags)
		default:
			h.engineAddress = a
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	// The CLI reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// ---------------------------------------------------------------------------
// Runtime options

type options struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(s *structpb.Struct) options {
	o := options{typescript: true}
	if s == nil {
		return o
	}
	f := s.GetFields()
	if v, ok := f["typescript"]; ok {
		switch x := v.GetKind().(type) {
		case *structpb.Value_BoolValue:
			o.typescript = x.BoolValue
		case *structpb.Value_StringValue:
			o.typescript = x.StringValue == "true"
		}
	}
	if v, ok := f["tsconfig"]; ok {
		o.tsconfig = v.GetStringValue()
	}
	if v, ok := f["nodeargs"]; ok {
		o.nodeargs = strings.Fields(v.GetStringValue())
	}
	return o
}

// ---------------------------------------------------------------------------
// Module resolution (node's algorithm: walk up looking in node_modules)

func resolveModuleDir(from, name string) (string, error) {
	dir, err := filepath.Abs(from)
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "node_modules", filepath.FromSlash(name))
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find module %q from %s; have you run `npm install`?", name, from)
		}
		dir = parent
	}
}

func nodeBinary() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("could not find node on the $PATH")
	}
	return p, nil
}

// ---------------------------------------------------------------------------
// Plugin / dependency discovery

type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          *struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// findProjectPackageJSON returns the nearest package.json at or above dir,
// stopping at root (the directory of Pulumi.yaml) when given.
func findProjectPackageJSON(dir, root string) (string, error) {
	dir, _ = filepath.Abs(dir)
	if root != "" {
		root, _ = filepath.Abs(root)
	}
	for {
		p := filepath.Join(dir, "package.json")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if dir == root {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no package.json found")
}

type installedDep struct {
	name string
	pkg  *packageJSON
}

// directDependencies lists the project's direct dependencies with the
// package.json of the installed copy (missing ones are skipped).
func directDependencies(info *pulumirpc.ProgramInfo) ([]installedDep, error) {
	progDir := info.GetProgramDirectory()
	pj, err := findProjectPackageJSON(progDir, info.GetRootDirectory())
	if err != nil {
		return nil, nil //nolint:nilerr // a program without package.json has no dependencies
	}
	proj, err := readPackageJSON(pj)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range proj.Dependencies {
		names[n] = true
	}
	for n := range proj.DevDependencies {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var out []installedDep
	for _, n := range sorted {
		dir, err := resolveModuleDir(filepath.Dir(pj), n)
		if err != nil {
			continue
		}
		p, err := readPackageJSON(filepath.Join(dir, "package.json"))
		if err != nil {
			continue
		}
		out = append(out, installedDep{name: n, pkg: p})
	}
	return out, nil
}

func pluginOf(d installedDep) *pulumirpc.PackageDependency {
	p := d.pkg.Pulumi
	if p == nil || !p.Resource {
		return nil
	}
	name := p.Name
	if name == "" {
		name = strings.TrimPrefix(strings.TrimPrefix(d.pkg.Name, "@pulumi/"), "@")
	}
	v := p.Version
	if v == "" {
		v = d.pkg.Version
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: v, Server: p.Server}
}

// requiredPackages lists the resource plugins the program's direct dependencies declare; both
// the package and the older plugin form of the question are answered from it.
func requiredPackages(info *pulumirpc.ProgramInfo) ([]*pulumirpc.PackageDependency, error) {
	deps, err := directDependencies(info)
	if err != nil {
		return nil, err
	}
	var pkgs []*pulumirpc.PackageDependency
	for _, d := range deps {
		if p := pluginOf(d); p != nil {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *host) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	deps, err := directDependencies(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out := make([]*pulumirpc.DependencyInfo, 0, len(deps))
	for _, d := range deps {
		out = append(out, &pulumirpc.DependencyInfo{Name: d.name, Version: d.pkg.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// ---------------------------------------------------------------------------
// Run: execute a Pulumi program

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	info := req.GetInfo()
	progDir := info.GetProgramDirectory()
	if progDir == "" {
		progDir = req.GetPwd()
	}
	opts := parseOptions(info.GetOptions())

	sdkDir, err := resolveModuleDir(progDir, "@pulumi/pulumi")
	if err != nil {
		return nil, err
	}

	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := append([]string{}, opts.nodeargs...)
	args = append(args, filepath.Join(sdkDir, "cmd", "run"))
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", h.tracing)
	program := req.GetProgram()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cfg := req.GetConfig()
	if cfg == nil {
		cfg = map[string]string{}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := os.Environ()
	env = append(env,
		"PULUMI_CONFIG="+string(cfgJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.Command(node, args...)
	cmd.Dir = progDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := runCancellable(ctx, cmd); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code := exitErr.ExitCode()
			if code == exitCodeAlreadyLogged {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// runCancellable runs cmd in its own process group and kills the group when
// the request is cancelled, so no node process outlives an aborted update.
func runCancellable(ctx context.Context, cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	return err
}

// ---------------------------------------------------------------------------
// RunPlugin: policy packs (analyzer) and Node-based resource plugins

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, srv pulumirpc.LanguageRuntime_RunPluginServer) error {
	node, err := nodeBinary()
	if err != nil {
		return err
	}
	info := req.GetInfo()
	progDir := info.GetProgramDirectory()
	opts := parseOptions(info.GetOptions())

	var entry string
	switch req.GetKind() {
	case "analyzer":
		entry = "run-policy-pack"
	case "resource", "":
		entry = "run-plugin"
	default:
		return status.Errorf(codes.Unimplemented, "plugin kind %q is not supported by this language host", req.GetKind())
	}
	// A plugin resolves the SDK from its own node_modules, not the program's.
	sdkDir, err := resolveModuleDir(progDir, "@pulumi/pulumi")
	if err != nil {
		return err
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, filepath.Join(sdkDir, "cmd", entry))
	args = append(args, req.GetArgs()...)
	args = append(args, ".")

	cmd := exec.Command(node, args...)
	cmd.Dir = progDir
	cmd.Env = req.GetEnv()
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	if opts.tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	return streamCommand(srv.Context(), cmd,
		func(b []byte) error {
			return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
		},
		func(b []byte) error {
			return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
		},
		func(code int32) error {
			return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
		})
}

// streamCommand runs cmd, forwarding stdout/stderr chunks as they arrive
// (the CLI reads the plugin's port from its first stdout line), then reports
// the exit code. Sends are serialised because gRPC streams are not safe for
// concurrent use.
func streamCommand(ctx context.Context, cmd *exec.Cmd,
	onStdout, onStderr func([]byte) error, onExit func(int32) error,
) error {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	var sendMu sync.Mutex
	pump := func(r io.Reader, send func([]byte) error, wg *sync.WaitGroup) {
		defer wg.Done()
		br := bufio.NewReader(r)
		buf := make([]byte, 32*1024)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				chunk := append([]byte(nil), buf[:n]...)
				sendMu.Lock()
				_ = send(chunk)
				sendMu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go pump(stdout, onStdout, &wg)
	go pump(stderr, onStderr, &wg)

	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-done:
		}
	}()
	wg.Wait()
	werr := cmd.Wait()
	close(done)

	code := int32(0)
	if werr != nil {
		var exitErr *exec.ExitError
		if !errors.As(werr, &exitErr) {
			return werr
		}
		code = int32(exitErr.ExitCode())
	}
	sendMu.Lock()
	defer sendMu.Unlock()
	return onExit(code)
}

// ---------------------------------------------------------------------------
// InstallDependencies: `pulumi install`, and policy packs without node_modules

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	srv pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // older CLIs
	}
	pj, err := findProjectPackageJSON(dir, req.GetInfo().GetRootDirectory())
	if err != nil {
		return err
	}
	npmArgs := []string{"install", "--no-audit", "--no-fund"}
	if _, err := os.Stat(filepath.Join(filepath.Dir(pj), "package-lock.json")); err == nil {
		npmArgs = []string{"ci", "--no-audit", "--no-fund"}
	}
	cmd := exec.Command("npm", npmArgs...)
	cmd.Dir = filepath.Dir(pj)
	cmd.Env = os.Environ()
	var exitCode int32
	err = streamCommand(srv.Context(), cmd,
		func(b []byte) error { return srv.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) },
		func(b []byte) error { return srv.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) },
		func(code int32) error { exitCode = code; return nil })
	if err != nil {
		return err
	}
	if exitCode != 0 {
		return fmt.Errorf("npm %s exited with code %d", npmArgs[0], exitCode)
	}
	return nil
}
