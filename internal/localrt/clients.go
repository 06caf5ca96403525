package localrt

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// LambdaAPI is the subset of *lambda.Client operations the runtime uses to read
// the deployed functions and event source mappings.
type LambdaAPI interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	ListTags(ctx context.Context, in *lambda.ListTagsInput, optFns ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, optFns ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
	GetFunctionConcurrency(ctx context.Context, in *lambda.GetFunctionConcurrencyInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
}

// SQSAPI is the subset of *sqs.Client operations used by the pollers, the
// alarm evaluator and SNS delivery to queues.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SNSAPI is the subset of *sns.Client operations used to deliver alarm
// notifications.
type SNSAPI interface {
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	GetSubscriptionAttributes(ctx context.Context, in *sns.GetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error)
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// CloudWatchAPI is the subset of *cloudwatch.Client operations used by the
// alarm evaluator.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// Clients are the AWS clients the runtime talks to, built once by the caller.
type Clients struct {
	Lambda     LambdaAPI
	SQS        SQSAPI
	SNS        SNSAPI
	CloudWatch CloudWatchAPI
}

// NewClients builds every client from one SDK configuration (which reads
// AWS_ENDPOINT_URL like any SDK configuration does).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		Lambda:     lambda.NewFromConfig(cfg),
		SQS:        sqs.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg, CloudWatchQueryProtocol),
	}
}

// CloudWatchQueryProtocol makes a CloudWatch client speak the awsQuery
// protocol, which CloudWatch still serves, instead of the SDK's default
// RPCv2 CBOR, which local emulators do not understand yet (moto 5.2 answers
// 404). Pass it to cloudwatch.NewFromConfig.
func CloudWatchQueryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(&smithy.ServiceSchema{Version: "2010-08-01"})
}
