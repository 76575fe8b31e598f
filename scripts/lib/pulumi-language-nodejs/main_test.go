package main

// These tests start the host the way the Pulumi CLI does (a process that prints its port on the
// first stdout line) and talk to it over gRPC, against a tiny Node.js program whose
// node_modules hold stand-ins for the SDK's entry points. The stand-ins record how node was
// launched, so the tests check the program-launch logic with the real node on PATH (the tool
// cache's when run through the project's test tier) without a Pulumi engine.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// The test binary doubles as the host: with this variable set it runs main() instead of the tests.
const runAsHostEnv = "NEXUS_LANGUAGE_HOST_TEST_RUN_MAIN"

// The engine address the CLI would pass; nothing listens there, the stand-ins only record it.
const engineAddress = "127.0.0.1:1"

func TestMain(m *testing.M) {
	if os.Getenv(runAsHostEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// lockedBuffer collects the host's output while the tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type runningHost struct {
	client pulumirpc.LanguageRuntimeClient
	stdout *lockedBuffer // what the host printed after its port: the programs' own output
}

// startHost starts the host process and connects to it; it is killed when the test ends (and
// with the test binary, should that die first).
func startHost(t *testing.T) *runningHost {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Flags the CLI may pass come before the engine address and must be ignored.
	cmd := exec.Command(self, "-v=9", "--logtostderr", "-tracing", "", engineAddress)
	cmd.Env = append(os.Environ(), runAsHostEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	lines := bufio.NewReader(out)
	first := make(chan string, 1)
	go func() {
		line, _ := lines.ReadString('\n')
		first <- line
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("the host printed no port within 30s")
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the host's first line is not a port: %q", line)
	}
	h := &runningHost{stdout: &lockedBuffer{}}
	go func() { _, _ = io.Copy(h.stdout, lines) }()

	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	h.client = pulumirpc.NewLanguageRuntimeClient(conn)
	return h
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The SDK's program runner, reduced to what the host is responsible for: it records its
// arguments and environment, then loads the program the way the real one does (the last
// argument, relative to the working directory).
const runStandIn = `
const fs = require("node:fs");
const path = require("node:path");
const args = process.argv.slice(2);
fs.writeFileSync(path.join(process.cwd(), "run-report.json"), JSON.stringify({
  args,
  cwd: process.cwd(),
  node: process.version,
  config: JSON.parse(process.env.PULUMI_CONFIG),
  secretKeys: JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS),
  typescript: process.env.PULUMI_NODEJS_TYPESCRIPT,
}));
require(path.resolve(args[args.length - 1]));
`

// The tiny program: prints a line and exits with the code its stack config asks for.
const tinyProgram = `
const config = JSON.parse(process.env.PULUMI_CONFIG);
console.log("hello from the tiny program");
process.exitCode = Number(config["tiny:exitCode"] || 0);
`

// The SDK's policy-pack runner: prints a port on stdout, as an analyzer does, and a line on stderr.
const policyPackStandIn = `
console.log("4242");
console.error("policy pack on " + process.version + " in " + process.cwd());
`

// tinyProject writes the program and its node_modules and returns its directory.
func tinyProject(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "Pulumi.yaml"), "name: tiny\nruntime: nodejs\n")
	writeFile(t, filepath.Join(dir, "package.json"), `{"name": "tiny", "main": "index.js",
  "dependencies": {"@pulumi/pulumi": "3.270.0", "@pulumi/kubernetes": "4.25.0", "left-pad": "1.3.0"},
  "devDependencies": {"not-installed": "1.0.0"}}`)
	writeFile(t, filepath.Join(dir, "index.js"), tinyProgram)
	nm := filepath.Join(dir, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "package.json"), `{"name": "@pulumi/pulumi", "version": "3.270.0"}`)
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "cmd", "run", "index.js"), runStandIn)
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js"), policyPackStandIn)
	writeFile(t, filepath.Join(nm, "@pulumi", "kubernetes", "package.json"),
		`{"name": "@pulumi/kubernetes", "version": "4.25.0", "pulumi": {"resource": true, "name": "kubernetes"}}`)
	writeFile(t, filepath.Join(nm, "left-pad", "package.json"), `{"name": "left-pad", "version": "1.3.0"}`)
	return dir
}

func programInfo(dir string, options map[string]any) *pulumirpc.ProgramInfo {
	opts, err := structpb.NewStruct(options)
	if err != nil {
		panic(err)
	}
	return &pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir, EntryPoint: ".", Options: opts}
}

func rpcContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func nodeOnPath(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: source .tools/env (scripts/bootstrap) first")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return node, strings.TrimSpace(string(out))
}

func TestServesPluginInfoAndAbout(t *testing.T) {
	h := startHost(t)
	ctx := rpcContext(t)
	info, err := h.client.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetVersion() != version {
		t.Errorf("version %q, want %q", info.GetVersion(), version)
	}
	node, nodeVersion := nodeOnPath(t)
	about, err := h.client.About(ctx, &pulumirpc.AboutRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if about.GetExecutable() != node || "v"+about.GetVersion() != nodeVersion {
		t.Errorf("About = %s %s, want %s %s", about.GetExecutable(), about.GetVersion(), node, nodeVersion)
	}
}

func TestGetRequiredPluginsListsResourcePackagesOnly(t *testing.T) {
	h := startHost(t)
	dir := tinyProject(t)
	resp, err := h.client.GetRequiredPlugins(rpcContext(t), &pulumirpc.GetRequiredPluginsRequest{
		Project: "tiny", Pwd: dir, Info: programInfo(dir, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range resp.GetPlugins() {
		got = append(got, p.GetKind()+" "+p.GetName()+" "+p.GetVersion())
	}
	if want := []string{"resource kubernetes v4.25.0"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("plugins %q, want %q", got, want)
	}

	deps, err := h.client.GetProgramDependencies(rpcContext(t), &pulumirpc.GetProgramDependenciesRequest{
		Project: "tiny", Pwd: dir, Info: programInfo(dir, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, d := range deps.GetDependencies() {
		got = append(got, d.GetName()+"@"+d.GetVersion())
	}
	// Installed direct dependencies only, sorted; the missing devDependency is left out.
	if want := "@pulumi/kubernetes@4.25.0|@pulumi/pulumi@3.270.0|left-pad@1.3.0"; strings.Join(got, "|") != want {
		t.Errorf("dependencies %q, want %q", got, want)
	}
}

type runReport struct {
	Args       []string          `json:"args"`
	Cwd        string            `json:"cwd"`
	Node       string            `json:"node"`
	Config     map[string]string `json:"config"`
	SecretKeys []string          `json:"secretKeys"`
	Typescript string            `json:"typescript"`
}

func TestRunLaunchesTheProgramWithNode(t *testing.T) {
	h := startHost(t)
	dir := tinyProject(t)
	_, nodeVersion := nodeOnPath(t)
	run := func(exitCode string) *pulumirpc.RunResponse {
		t.Helper()
		resp, err := h.client.Run(rpcContext(t), &pulumirpc.RunRequest{
			Project: "tiny", Stack: "dev", Pwd: dir, Program: ".", Organization: "organization",
			MonitorAddress: "127.0.0.1:2", DryRun: true, Parallel: 4,
			Config:           map[string]string{"tiny:exitCode": exitCode, "tiny:password": "s3cret"},
			ConfigSecretKeys: []string{"tiny:password"},
			Info:             programInfo(dir, map[string]any{"typescript": false}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if resp := run("0"); resp.GetError() != "" || resp.GetBail() {
		t.Fatalf("a program that exits 0: %v", resp)
	}
	b, err := os.ReadFile(filepath.Join(dir, "run-report.json"))
	if err != nil {
		t.Fatalf("the SDK's runner was not started: %v", err)
	}
	var r runReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--monitor", "127.0.0.1:2", "--engine", engineAddress, "--organization", "organization",
		"--project", "tiny", "--root-directory", dir, "--stack", "dev", "--pwd", dir,
		"--dry-run", "--parallel", "4", ".",
	}
	if strings.Join(r.Args, " ") != strings.Join(want, " ") {
		t.Errorf("runner arguments\n got %q\nwant %q", r.Args, want)
	}
	if r.Cwd != dir || r.Node != nodeVersion || r.Typescript != "false" {
		t.Errorf("runner started in %s with node %s, typescript=%s; want %s, %s, false", r.Cwd, r.Node, r.Typescript, dir, nodeVersion)
	}
	if r.Config["tiny:password"] != "s3cret" || strings.Join(r.SecretKeys, ",") != "tiny:password" {
		t.Errorf("config %v, secret keys %v", r.Config, r.SecretKeys)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.stdout.String(), "hello from the tiny program") {
		if time.Now().After(deadline) {
			t.Fatalf("the program's output did not reach the host's stdout: %q", h.stdout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The SDK exits 32 after reporting an error itself: the CLI must not print another one.
	if resp := run("32"); !resp.GetBail() || resp.GetError() != "" {
		t.Errorf("exit 32: %v, want bail", resp)
	}
	if resp := run("3"); resp.GetError() != "Program exited with non-zero exit code: 3" {
		t.Errorf("exit 3: %v", resp)
	}
}

func TestRunPluginStreamsAPolicyPack(t *testing.T) {
	h := startHost(t)
	dir := tinyProject(t)
	_, nodeVersion := nodeOnPath(t)
	stream, err := h.client.RunPlugin(rpcContext(t), &pulumirpc.RunPluginRequest{
		Pwd: dir, Kind: "analyzer", Env: os.Environ(), Info: programInfo(dir, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	exitCode := int32(-1)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stdout.Write(msg.GetStdout())
		stderr.Write(msg.GetStderr())
		if _, ok := msg.GetOutput().(*pulumirpc.RunPluginResponse_Exitcode); ok {
			exitCode = msg.GetExitcode()
		}
	}
	if stdout.String() != "4242\n" || exitCode != 0 {
		t.Errorf("stdout %q, exit %d; want the port and 0", stdout.String(), exitCode)
	}
	if want := "policy pack on " + nodeVersion + " in " + dir + "\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestUnknownPluginKindIsRefused(t *testing.T) {
	h := startHost(t)
	dir := tinyProject(t)
	stream, err := h.client.RunPlugin(rpcContext(t), &pulumirpc.RunPluginRequest{Pwd: dir, Kind: "converter", Info: programInfo(dir, nil)})
	if err == nil {
		_, err = stream.Recv()
	}
	if err == nil || !strings.Contains(err.Error(), `plugin kind "converter" is not supported`) {
		t.Errorf("err = %v", err)
	}
}
