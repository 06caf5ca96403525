package localrt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Function is one deployed Lambda function the runtime can run.
type Function struct {
	// Name and ARN as deployed.
	Name, ARN string
	// Folder is the offload:function tag: the bootstrap is <BinDir>/<Folder>/bootstrap.
	Folder string
	// Handler and Runtime as deployed (informational for provided runtimes).
	Handler, Runtime string
	// Timeout and MemoryMB as deployed (Lambda's defaults 3 s / 128 MB when unset).
	Timeout  time.Duration
	MemoryMB int32
	// Env is the deployed environment.
	Env map[string]string
	// LocalRuntime is true when the function carries offload:local-runtime=enabled.
	LocalRuntime bool
	// TracingActive is true for TracingConfig.Mode Active.
	TracingActive bool
	// MaxConcurrency is AWS_LAMBDA_MAX_CONCURRENCY from Env: how many invokes
	// one execution environment serves at once (Lambda Managed Instances).
	// 0 or 1: one at a time.
	MaxConcurrency int
	// ReservedConcurrency is the function's reserved concurrency
	// (GetFunctionConcurrency); nil when none is set.
	ReservedConcurrency *int32
}

// concurrency is how many invokes one environment of f serves at once.
func (f Function) concurrency() int { return max(f.MaxConcurrency, 1) }

// Mapping is one SQS event source mapping.
type Mapping struct {
	UUID string
	// Function is the mapped function's name.
	Function string
	// QueueARN is the event source.
	QueueARN string
	// BatchSize and Window (MaximumBatchingWindowInSeconds) as deployed.
	BatchSize int
	Window    time.Duration
	// ReportBatchItemFailures is set when FunctionResponseTypes lists it.
	ReportBatchItemFailures bool
	// MaxConcurrency is ScalingConfig.MaximumConcurrency, 0 when unset.
	MaxConcurrency int
	// State as the emulator reports it ("Enabled", "Disabled", …).
	State string
	// FilterPatterns are FilterCriteria.Filters' patterns (filter.go): a
	// record matching none is deleted without an invoke.
	FilterPatterns []string
}

// Deployment is what the emulator says is deployed: the functions the
// runtime runs and their SQS mappings.
type Deployment struct {
	Functions []Function
	Mappings  []Mapping
}

// Function returns the function with this name or ARN.
func (d Deployment) Function(nameOrARN string) (Function, bool) {
	name := functionNameFromARN(nameOrARN)
	for _, f := range d.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Discover reads the deployed functions tagged offload:function (optionally
// only those named in filter, by deployed name or folder) and their SQS event
// source mappings.
func Discover(ctx context.Context, api LambdaAPI, filter []string) (Deployment, error) {
	var d Deployment
	p := lambda.NewListFunctionsPaginator(api, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return d, fmt.Errorf("list functions: %w", err)
		}
		for _, fc := range page.Functions {
			name := aws.ToString(fc.FunctionName)
			tags, err := api.ListTags(ctx, &lambda.ListTagsInput{Resource: fc.FunctionArn})
			var gone *lambdatypes.ResourceNotFoundException
			if errors.As(err, &gone) {
				continue // deleted since the listing
			}
			if err != nil {
				return d, fmt.Errorf("list tags of function %s: %w", name, err)
			}
			folder := tags.Tags[TagFunction]
			if folder == "" {
				continue
			}
			if len(filter) > 0 && !slices.Contains(filter, name) && !slices.Contains(filter, folder) {
				continue
			}
			f := functionFrom(fc, folder, tags.Tags)
			conc, err := api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fc.FunctionName})
			if errors.As(err, &gone) {
				continue
			}
			if err != nil {
				return d, fmt.Errorf("reserved concurrency of function %s: %w", name, err)
			}
			f.ReservedConcurrency = conc.ReservedConcurrentExecutions
			d.Functions = append(d.Functions, f)
		}
	}
	mp := lambda.NewListEventSourceMappingsPaginator(api, &lambda.ListEventSourceMappingsInput{})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			return d, fmt.Errorf("list event source mappings: %w", err)
		}
		for _, m := range page.EventSourceMappings {
			src := aws.ToString(m.EventSourceArn)
			fn := functionNameFromARN(aws.ToString(m.FunctionArn))
			if !strings.HasPrefix(src, "arn:aws:sqs:") {
				continue
			}
			if _, ok := d.Function(fn); !ok {
				continue
			}
			d.Mappings = append(d.Mappings, mappingFrom(m, fn))
		}
	}
	return d, nil
}

func functionFrom(fc lambdatypes.FunctionConfiguration, folder string, tags map[string]string) Function {
	f := Function{
		Name:         aws.ToString(fc.FunctionName),
		ARN:          aws.ToString(fc.FunctionArn),
		Folder:       folder,
		Handler:      aws.ToString(fc.Handler),
		Runtime:      string(fc.Runtime),
		Timeout:      3 * time.Second,
		MemoryMB:     128,
		Env:          map[string]string{},
		LocalRuntime: tags[TagLocalRuntime] == "enabled",
	}
	if fc.Timeout != nil && *fc.Timeout > 0 {
		f.Timeout = time.Duration(*fc.Timeout) * time.Second
	}
	if fc.MemorySize != nil && *fc.MemorySize > 0 {
		f.MemoryMB = *fc.MemorySize
	}
	if fc.Environment != nil {
		for k, v := range fc.Environment.Variables {
			f.Env[k] = v
		}
	}
	if fc.TracingConfig != nil && fc.TracingConfig.Mode == lambdatypes.TracingModeActive {
		f.TracingActive = true
	}
	// As aws-lambda-go reads it (lambdacontext): a positive integer, else 1.
	if n, err := strconv.Atoi(f.Env["AWS_LAMBDA_MAX_CONCURRENCY"]); err == nil && n > 1 {
		f.MaxConcurrency = n
	}
	return f
}

func mappingFrom(m lambdatypes.EventSourceMappingConfiguration, fn string) Mapping {
	mp := Mapping{
		UUID:      aws.ToString(m.UUID),
		Function:  fn,
		QueueARN:  aws.ToString(m.EventSourceArn),
		BatchSize: 10,
		State:     aws.ToString(m.State),
	}
	if m.BatchSize != nil && *m.BatchSize > 0 {
		mp.BatchSize = int(*m.BatchSize)
	}
	if m.MaximumBatchingWindowInSeconds != nil {
		mp.Window = time.Duration(*m.MaximumBatchingWindowInSeconds) * time.Second
	}
	mp.ReportBatchItemFailures = slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures)
	if m.ScalingConfig != nil && m.ScalingConfig.MaximumConcurrency != nil {
		mp.MaxConcurrency = int(*m.ScalingConfig.MaximumConcurrency)
	}
	if m.FilterCriteria != nil {
		for _, f := range m.FilterCriteria.Filters {
			mp.FilterPatterns = append(mp.FilterPatterns, aws.ToString(f.Pattern))
		}
	}
	return mp
}

// functionNameFromARN returns the function name in a function ARN (with or
// without a qualifier), or its argument when it is not an ARN.
func functionNameFromARN(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	parts := strings.Split(s, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return s
}

// queueNameFromARN returns the queue name of an SQS queue ARN.
func queueNameFromARN(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}
