// Command offload is the ops CLI: send test work, look into dead-letter
// queues, redrive them, and read audit records — using the names an
// environment's Terraform outputs give, so nobody copies ARNs to Notepad.
//
//	offload [global flags] <command> [flags] [args]
//
// Run `offload help` or `offload <command> -h` for details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/offload/offload/pkg/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "offload:", logging.Mask(err.Error())) // masked as pkg/logging masks logs
		os.Exit(1)
	}
}

const usage = `offload — operate an offload environment

Usage:
  offload [global flags] <command> [flags] [args]

Commands:
  send audit    enqueue an audit record (the article's AuditMessage)
  send sms      enqueue an SMS request
  dlq peek      show what a dead-letter queue holds, without consuming it
  dlq redrive   move a dead-letter queue's messages back to their source queue
  audit get     read the audit items stored under a messageId
  outputs       print the environment outputs this CLI resolves names from

Global flags:
  --outputs FILE  the environment's outputs (terraform output -json);
                  default $OFFLOAD_OUTPUTS_FILE, else .local/outputs.json (written by make run)

AWS access comes from the standard SDK environment (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL for the local emulator, …).

Run "offload <command> -h" for a command's flags.
`

// realMain parses args and runs one command.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("offload", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	outputsPath := global.String("outputs", defaultOutputsPath(), "environment outputs file")
	if err := global.Parse(args); err != nil {
		return err
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	app := &app{outputsPath: *outputsPath, stdout: stdout, stderr: stderr}
	cmd, sub := rest[0], ""
	if len(rest) > 1 {
		sub = rest[1]
	}
	switch {
	case cmd == "send" && sub == "audit":
		return app.sendAudit(ctx, rest[2:])
	case cmd == "send" && sub == "sms":
		return app.sendSMS(ctx, rest[2:])
	case cmd == "dlq" && sub == "peek":
		return app.dlqPeek(ctx, rest[2:])
	case cmd == "dlq" && sub == "redrive":
		return app.dlqRedrive(ctx, rest[2:])
	case cmd == "audit" && sub == "get":
		return app.auditGet(ctx, rest[2:])
	case cmd == "outputs":
		return app.printOutputs(rest[1:])
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", join(rest, 2))
}

func defaultOutputsPath() string {
	if p := os.Getenv("OFFLOAD_OUTPUTS_FILE"); p != "" {
		return p
	}
	return ".local/outputs.json"
}

func join(s []string, n int) string {
	out := ""
	for i, v := range s {
		if i == n {
			break
		}
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}
