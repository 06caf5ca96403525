// Package localrt is offload's local Lambda runtime: it does on one machine,
// without Docker, what the AWS Lambda service does for the functions that
// Terraform deployed into the local emulator.
//
// It reads the deployed configuration from the emulator's own APIs, so the
// Terraform code stays the only source of the wiring:
//
//   - functions (Lambda ListFunctions, ListTags): environment, timeout, memory,
//     and the tag offload:function naming the folder whose host-built
//     bootstrap (dist/local/<folder>/bootstrap) runs for it;
//   - event source mappings (ListEventSourceMappings): batch size, batching
//     window, FunctionResponseTypes, ScalingConfig.MaximumConcurrency, state.
//     Mappings are deployed disabled in the emulator so its own fake mapping
//     never fires; a function tagged offload:local-runtime=enabled has its
//     mappings polled as if enabled;
//   - SNS subscriptions and CloudWatch alarms on AWS/SQS metrics.
//
// Each execution environment is one bootstrap process behind its own Lambda
// Runtime API server (next invocation, response, error, init error, and the
// extensions register call that aws-lambda-go's WithEnableSIGTERM makes),
// bound to 127.0.0.1 on an ephemeral port. A function gets up to its
// concurrency limit of environments; a timeout kills the process, fails the
// invoke and makes the next invoke a cold start, as Lambda does. Every invoke
// logs START, END and REPORT lines (Duration, Billed Duration, Memory Size,
// Max Memory Used, Init Duration on cold starts) with the function's prefix.
// An idle environment is frozen (SIGSTOP of its process group) until the next
// invoke; an invoke past the function's memory size fails as
// Runtime.OutOfMemory; an init past the 10 s limit is retried at the first
// invoke; invokes beyond the function's reserved concurrency are throttled;
// AWS_LAMBDA_MAX_CONCURRENCY lets one environment serve several at once.
//
// SQS polling follows the event source mapping rules: receive up to the batch
// size with all attributes, gather until the batch is full or the batching
// window ends, invoke with an events.SQSEvent shaped like Lambda's, then delete
// what succeeded (with ReportBatchItemFailures only the listed ids stay; an
// empty or unknown itemIdentifier or an unparsable response fails the whole
// batch). A function error or timeout deletes nothing: the messages come back
// after the visibility timeout and the emulator's redrive policy moves them to
// the DLQ after maxReceiveCount.
//
// Alarms in namespace AWS/SQS are evaluated every alarm period from queue
// attributes; a state change is written to the emulator (SetAlarmState) and
// the CloudWatch notification is delivered to the alarm topics' subscribers:
// Lambda subscribers get an events.SNSEvent whose message is CloudWatch's alarm
// JSON, SQS subscribers the SNS envelope.
//
// cmd/offload-local is the command-line front end; the conformance tests in
// this package pin each rule against the emulator.
package localrt
