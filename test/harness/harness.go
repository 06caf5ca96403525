package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	tttesting "github.com/gruntwork-io/terratest/modules/testing"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/internal/sdkconfig"
)

// Targets (OFFLOAD_TEST_TARGET).
const (
	TargetLocal = "local"
	TargetAWS   = "aws"
)

// Options configure a stack. The zero value is what most suites want.
type Options struct {
	// Name labels the stack in logs and names its work directory. Default "e2e".
	Name string
	// Vars are extra Terraform variables for environments/local (local target).
	Vars map[string]any
	// AlarmPeriod overrides every alarm's period in the local runtime (0:
	// each alarm's own period, as deployed).
	AlarmPeriod time.Duration
	// NoTraceDaemon leaves the X-Ray daemon out (local target).
	NoTraceDaemon bool
}

// Stack is one deployed environment the tests drive.
type Stack struct {
	// Target is TargetLocal or TargetAWS.
	Target string
	// Prefix is unique to this stack: the name prefix of a local stack, and
	// the namespace of test data on either target.
	Prefix string
	// Outputs are the environment's outputs.
	Outputs Outputs
	// Config is the SDK configuration the helpers use.
	Config aws.Config
	// SQS, DynamoDB and SNS are built once from Config.
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	SNS      *sns.Client
	// Runtime is the in-process local Lambda runtime (local target only).
	Runtime *localrt.Runtime
	// RuntimeLog is the file holding the functions' and the runtime's logs.
	RuntimeLog string

	t       tttesting.TestingT
	opts    Options
	repo    string
	workDir string
	keep    bool
	tfOpts  *terraform.Options

	stopRuntime func()
	daemon      *localrt.TraceDaemon

	mu       sync.Mutex
	cleanups []func() error
	seq      atomic.Int64
	downOnce sync.Once
	downErr  error
}

// Run is TestMain's body: it brings the stack up, stores it in *dst, runs the
// package's tests and brings the stack down whatever happened, returning the
// exit code.
func Run(m *testing.M, opts Options, dst **Stack) (code int) {
	t := &mainT{name: nameOr(opts.Name)}
	s := newStack(t, opts)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failNow); !ok {
				panic(r)
			}
			code = 1
		}
		if err := s.Down(); err != nil {
			log.Printf("harness: %v", err)
			code = 1
		}
	}()
	if err := s.up(); err != nil {
		log.Printf("harness: %v", err)
		return 1
	}
	*dst = s
	code = m.Run()
	if t.failed.Load() && code == 0 {
		code = 1
	}
	if code != 0 {
		s.printRuntimeLogTail(80)
	}
	return code
}

// Start brings a stack up for a program that is not a test (e.g.
// cmd/offload-chaos): the same deploy and runtime as Run and Up. The caller
// brings it down with Down, also after an error (a failed deploy is then
// destroyed too).
func Start(opts Options) (s *Stack, err error) {
	s = newStack(&mainT{name: nameOr(opts.Name)}, opts)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failNow); !ok {
				panic(r)
			}
			err = fmt.Errorf("harness: stack %s: deploy failed (see the log above)", s.Prefix)
		}
	}()
	return s, s.up()
}

// Up brings a stack up for one test and registers its teardown (before the
// deploy starts, so a failed deploy is destroyed too).
func Up(t *testing.T, opts Options) *Stack {
	t.Helper()
	s := newStack(t, opts)
	t.Cleanup(func() {
		if t.Failed() {
			s.printRuntimeLogTail(80)
		}
		if err := s.Down(); err != nil {
			t.Error(err)
		}
	})
	if err := s.up(); err != nil {
		t.Fatal(err)
	}
	return s
}

func newStack(t tttesting.TestingT, opts Options) *Stack {
	target := os.Getenv("OFFLOAD_TEST_TARGET")
	if target == "" {
		target = TargetLocal
	}
	return &Stack{t: t, opts: opts, Target: target, Prefix: "offload-t-" + strings.ToLower(random.UniqueId())}
}

func nameOr(n string) string {
	if n == "" {
		return "e2e"
	}
	return n
}

func (s *Stack) up() error {
	ctx := context.Background()
	cfg, err := sdkconfig.Load(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	s.Config = cfg
	s.SQS = sqs.NewFromConfig(cfg)
	s.DynamoDB = dynamodb.NewFromConfig(cfg)
	s.SNS = sns.NewFromConfig(cfg)
	switch s.Target {
	case TargetAWS:
		return s.upAWS()
	case TargetLocal:
		return s.upLocal(ctx)
	}
	return fmt.Errorf("OFFLOAD_TEST_TARGET=%q: want %q or %q", s.Target, TargetLocal, TargetAWS)
}

func (s *Stack) upAWS() error {
	path := os.Getenv("OFFLOAD_OUTPUTS_FILE")
	if path == "" {
		return errors.New("OFFLOAD_TEST_TARGET=aws needs OFFLOAD_OUTPUTS_FILE: the `terraform output -json` of the deployed environment (make outputs ENV=…)")
	}
	o, err := ReadOutputs(path)
	if err != nil {
		return err
	}
	if err := validateOutputs(o); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.Outputs = o
	// Under the environment's prefix: the deploy role may only create
	// resources named <name_prefix>-* (terraform/bootstrap).
	s.Prefix = o.NamePrefix + "-e2e-" + strings.ToLower(random.UniqueId())
	return nil
}

func (s *Stack) upLocal(ctx context.Context) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return errors.New("OFFLOAD_TEST_TARGET=local needs AWS_ENDPOINT_URL (the emulator): run through `make test`, or `make up` and export it")
	}
	repo, err := RepoRoot()
	if err != nil {
		return err
	}
	s.repo = repo
	if os.Getenv("TF_CLI_CONFIG_FILE") == "" || !exists(os.Getenv("TF_CLI_CONFIG_FILE")) {
		rc := filepath.Join(repo, ".local", "terraformrc")
		if out, err := exec.Command("bash", filepath.Join(repo, "scripts", "tfconfig.sh"), rc).CombinedOutput(); err != nil {
			return fmt.Errorf("write terraform CLI config: %v: %s", err, out)
		}
		os.Setenv("TF_CLI_CONFIG_FILE", rc)
	}
	if s.workDir = os.Getenv("OFFLOAD_E2E_WORKDIR"); s.workDir != "" {
		s.keep = true
		if !filepath.IsAbs(s.workDir) {
			s.workDir = filepath.Join(repo, s.workDir)
		}
		s.workDir = filepath.Join(s.workDir, nameOr(s.opts.Name))
	} else if s.workDir, err = os.MkdirTemp("", "offload-"+nameOr(s.opts.Name)+"-"); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}

	var stageErr error
	test_structure.RunTestStage(s.t, "deploy", func() { stageErr = s.deploy() })
	if stageErr != nil {
		return stageErr
	}
	if s.tfOpts == nil { // deploy skipped: reuse the kept stack
		if !exists(filepath.Join(s.workDir, ".test-data", "TerraformOptions.json")) {
			return fmt.Errorf("SKIP_deploy is set but %s holds no deployed stack (set OFFLOAD_E2E_WORKDIR and deploy once with SKIP_teardown=1)", s.workDir)
		}
		s.tfOpts = test_structure.LoadTerraformOptions(s.t, s.workDir)
		s.Prefix, _ = s.tfOpts.Vars["name_prefix"].(string)
	}
	out, err := terraform.OutputJsonE(s.t, s.tfOpts, "")
	if err != nil {
		return fmt.Errorf("terraform output: %w", err)
	}
	if s.Outputs, err = ParseOutputs([]byte(out)); err != nil {
		return err
	}
	if err := validateOutputs(s.Outputs); err != nil {
		return err
	}
	s.Outputs.EmulatorEndpoint = endpoint
	return s.startRuntime(ctx, endpoint)
}

// deploy copies the terraform tree and applies environments/local with the
// stack's prefix. Stand-ins replace functions not written yet.
func (s *Stack) deploy() error {
	if out, err := exec.Command("bash", filepath.Join(s.repo, "scripts", "standins.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("stand-in functions: %v: %s", err, out)
	}
	tfRoot := filepath.Join(s.workDir, "terraform")
	if err := copyTree(filepath.Join(s.repo, "terraform"), tfRoot); err != nil {
		return err
	}
	vars := map[string]any{"name_prefix": s.Prefix, "dist_dir": filepath.Join(s.repo, "dist")}
	for k, v := range s.opts.Vars {
		vars[k] = v
	}
	s.tfOpts = &terraform.Options{
		TerraformDir: filepath.Join(tfRoot, "environments", "local"),
		Vars:         vars,
		NoColor:      true,
	}
	test_structure.SaveTerraformOptions(s.t, s.workDir, s.tfOpts)
	err := initAndApplyAdoptingOrphans(s.t, s.tfOpts)
	if err != nil {
		return fmt.Errorf("apply environments/local (prefix %s): %w", s.Prefix, err)
	}
	return nil
}

func (s *Stack) startRuntime(ctx context.Context, endpoint string) error {
	s.RuntimeLog = filepath.Join(s.workDir, "runtime.log")
	logFile, err := os.OpenFile(s.RuntimeLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("runtime log: %w", err)
	}
	creds, err := s.Config.Credentials.Retrieve(ctx)
	if err != nil {
		logFile.Close()
		return fmt.Errorf("AWS credentials: %w", err)
	}
	cfg := localrt.Config{
		Region: s.Config.Region, Endpoint: endpoint,
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		BinDir: filepath.Join(s.repo, "dist", "local"), AlarmPeriod: s.opts.AlarmPeriod, AlarmNamePrefix: s.Prefix,
		Logs: logFile, Logger: slog.New(slog.NewTextHandler(logFile, nil)),
	}
	for _, name := range s.Outputs.FunctionNames {
		cfg.Functions = append(cfg.Functions, name)
	}
	if !s.opts.NoTraceDaemon {
		bin := filepath.Join(s.repo, "bin", "xray-daemon")
		if !exists(bin) {
			build := exec.Command("go", "build", "-o", bin, "github.com/aws/aws-xray-daemon/daemon")
			build.Dir = filepath.Join(s.repo, "tools")
			if out, err := build.CombinedOutput(); err != nil {
				logFile.Close()
				return fmt.Errorf("build the X-Ray daemon: %v: %s", err, out)
			}
		}
		if s.daemon, err = localrt.StartTraceDaemon(bin, endpoint, s.Config.Region, logFile); err != nil {
			logFile.Close()
			return err
		}
		cfg.TraceDaemonAddress = s.daemon.Addr
	}
	rt, err := localrt.New(cfg, localrt.NewClients(s.Config))
	if err != nil {
		logFile.Close()
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(rctx) }()
	s.stopRuntime = func() {
		cancel()
		if err := <-done; err != nil {
			log.Printf("harness: local runtime: %v", err)
		}
		logFile.Close()
	}
	select {
	case <-rt.Ready():
		s.Runtime = rt
		log.Printf("harness: stack %s up (local runtime log: %s)", s.Prefix, s.RuntimeLog)
		return nil
	case err := <-done:
		done <- err
		return fmt.Errorf("local runtime: %w", err)
	case <-time.After(30 * time.Second):
		return errors.New("local runtime not ready after 30 s")
	}
}

// printRuntimeLogTail shows the end of the runtime log after a failure (the
// work directory and the log go away with the stack).
func (s *Stack) printRuntimeLogTail(n int) {
	if s.RuntimeLog == "" {
		return
	}
	b, err := os.ReadFile(s.RuntimeLog)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	log.Printf("harness: last %d lines of the local runtime log:\n%s", len(lines), strings.Join(lines, "\n"))
}

// Cleanup registers fn to run when the stack comes down (last registered,
// first run), before the stack itself is destroyed.
func (s *Stack) Cleanup(fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, fn)
}

// Down runs the registered cleanups, stops the runtime and the X-Ray daemon
// and destroys a local stack (unless SKIP_teardown is set). It is safe to
// call more than once.
func (s *Stack) Down() error {
	s.downOnce.Do(func() {
		var errs []error
		s.mu.Lock()
		cleanups := s.cleanups
		s.cleanups = nil
		s.mu.Unlock()
		for i := len(cleanups) - 1; i >= 0; i-- {
			if err := cleanups[i](); err != nil {
				errs = append(errs, err)
			}
		}
		if s.stopRuntime != nil {
			s.stopRuntime()
		}
		s.daemon.Stop()
		if s.Target == TargetLocal && s.tfOpts != nil {
			test_structure.RunTestStage(s.t, "teardown", func() {
				if _, err := terraform.DestroyE(s.t, s.tfOpts); err != nil {
					errs = append(errs, fmt.Errorf("destroy stack %s: %w", s.Prefix, err))
					return
				}
				if !s.keep {
					os.RemoveAll(s.workDir)
				}
			})
		}
		s.downErr = errors.Join(errs...)
	})
	return s.downErr
}

// SkipUnlessLocal skips t on any target but TargetLocal; why says what the
// test needs that only the local emulator gives (an injected fault, the texts
// it records).
func (s *Stack) SkipUnlessLocal(t testing.TB, why string) {
	t.Helper()
	if s.Target != TargetLocal {
		t.Skip(why)
	}
}

// Unique returns a name unique within this stack's namespace: prefix-kind-n.
func (s *Stack) Unique(kind string) string {
	return fmt.Sprintf("%s-%s-%d", s.Prefix, kind, s.seq.Add(1))
}

// RepoRoot walks up from the working directory to the module's go.mod: the
// repository root, whose terraform/ and dist/ the stack uses.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/offload/offload\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of github.com/offload/offload) not found above the working directory")
		}
		dir = parent
	}
}

// copyTree copies the terraform tree, leaving out local state and provider
// caches, unless dst already holds a copy.
func copyTree(src, dst string) error {
	if exists(dst) {
		return nil
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		name := d.Name()
		if d.IsDir() && name == ".terraform" {
			return filepath.SkipDir
		}
		if strings.Contains(name, ".tfstate") {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// failNow is the panic mainT.FailNow raises; Run recovers it.
type failNow struct{}

// mainT is the testing.TestingT terratest needs in TestMain, where there is
// no *testing.T: it logs, and FailNow unwinds to Run.
type mainT struct {
	name   string
	failed atomic.Bool
}

func (m *mainT) Fail()                          { m.failed.Store(true) }
func (m *mainT) FailNow()                       { m.failed.Store(true); panic(failNow{}) }
func (m *mainT) Fatal(args ...any)              { log.Print(args...); m.FailNow() }
func (m *mainT) Fatalf(format string, a ...any) { log.Printf(format, a...); m.FailNow() }
func (m *mainT) Error(args ...any)              { log.Print(args...); m.Fail() }
func (m *mainT) Errorf(format string, a ...any) { log.Printf(format, a...); m.Fail() }
func (m *mainT) Name() string                   { return m.name }
func (m *mainT) Helper()                        {}
